"""Ours (the Python binding) against the original stack at the front desk, one run.

Driven by benches/scripts/desk.sh, which builds the release extension and the rtproxy
binary and starts the proxy. Both PostgreSQL stacks connect through the proxy, which
adds 0 or 1 ms before each client → server chunk and counts round trips; SQLite (ours
only) is a local file. Every call is a real write on a fresh target, checked to have
taken the intended path. Writes target/bench-results/desk.{md,json}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import socket
import sys
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg

import data
import powergym
from original import Original

LATENCIES_US = (0, 1000)


class Proxy:
    """The rtproxy control port: one JSON line per command."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rw")

    def command(self, line: str) -> dict:
        self.file.write(line + "\n")
        self.file.flush()
        return json.loads(self.file.readline())

    def delay(self, us: int) -> None:
        self.command(f"delay {us}")

    def reset(self) -> None:
        self.command("reset")

    def get(self) -> dict:
        return self.command("get")


def nearest_rank(sorted_values: list[float], p: float) -> float:
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


class Series:
    """Timings of one (size, operation, stack, latency)."""

    def __init__(self, size, op, stack, latency_us):
        self.key = (size, op, stack, latency_us)
        self.wall: list[float] = []
        self.cpu = 0.0
        self.round_trips = 0
        self.connections = 0
        self.calls = 0

    def row(self) -> dict:
        size, op, stack, latency_us = self.key
        w = sorted(self.wall)
        return {
            "members": size,
            "operation": op,
            "stack": stack,
            "added_latency_ms": None if latency_us is None else latency_us / 1000,
            "calls": self.calls,
            "round_trips_per_call": None if latency_us is None else self.round_trips / self.calls,
            "connections_opened": None if latency_us is None else self.connections,
            "p50_ms": nearest_rank(w, 50) * 1e3,
            "p99_ms": nearest_rank(w, 99) * 1e3,
            "mean_ms": sum(w) / len(w) * 1e3,
            "client_cpu_ms_per_call": self.cpu / self.calls * 1e3,
        }


class Bench:
    def __init__(self, proxy: Proxy, block: int):
        self.proxy = proxy
        self.block = block
        self.series: dict[tuple, Series] = {}

    def run_block(self, size, op, stack, latency_us, call, check, targets, pause: float = 0.0) -> None:
        """Times `call(target)` for each target; `check(target, result)` after each, untimed
        but inside the block's CPU (a few microseconds). With `pause`, each call waits that
        many seconds first, untimed (a desk's pace rather than a load test's)."""
        s = self.series.setdefault((size, op, stack, latency_us), Series(size, op, stack, latency_us))
        if latency_us is not None:
            self.proxy.delay(latency_us)
            self.proxy.reset()
        cpu0 = time.process_time()
        for target in targets:
            if pause:
                time.sleep(pause)
            t0 = time.perf_counter()
            result = call(target)
            s.wall.append(time.perf_counter() - t0)
            check(target, result)
        s.cpu += time.process_time() - cpu0
        if latency_us is not None:
            counters = self.proxy.get()
            s.round_trips += counters["round_trips"]
            s.connections += counters["connections"]
        s.calls += len(targets)

    def warm(self, latency_us, call, check, targets) -> None:
        if latency_us is not None:
            self.proxy.delay(latency_us)
        for target in targets:
            check(target, call(target))


def fail(message: str) -> None:
    raise SystemExit(f"desk: wrong path: {message}")


class Cursor:
    """Hands out fresh targets from a list, in order."""

    def __init__(self, items):
        self.items = list(items)
        self.at = 0

    def take(self, k: int) -> list:
        if self.at + k > len(self.items):
            raise SystemExit("desk: ran out of fresh targets; raise --members or lower --calls")
        out = self.items[self.at : self.at + k]
        self.at += k
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("DATABASE_URL", "postgres://powergym:powergym@127.0.0.1:5432/powergym"))
    ap.add_argument("--proxy-port", type=int, default=6543)
    ap.add_argument("--control-port", type=int, default=6544)
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--face-members", type=int, default=100_000, help="0 skips the large face run")
    ap.add_argument("--calls", type=int, default=300, help="timed calls per (operation, stack, latency)")
    ap.add_argument("--face-calls", type=int, default=150, help="timed calls per row of the large face run")
    ap.add_argument("--orig-face-calls", type=int, default=25,
                    help="timed calls of the original in the large face run (its exact scan takes ~0.5 s a call)")
    ap.add_argument("--paced-calls", type=int, default=100,
                    help="timed calls of ours alone at a desk's pace in the large face run")
    ap.add_argument("--pace-ms", type=int, default=200, help="quiet before each paced call")
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--data", default="target/bench-data")
    ap.add_argument("--out", default="target/bench-results")
    ap.add_argument("--schema", default="powergym-core/tests/fixtures/original/schema.sql")
    ap.add_argument("--keep", action="store_true", help="keep the databases")
    ap.add_argument("--faces-by", choices=("auto", "copy", "bulk"), default="auto",
                    help="templates into our stores by SQL COPY (PostgreSQL) / enroll_face (SQLite), "
                    "or by Gym.enroll_faces; auto = enroll_faces when the binding has it")
    args = ap.parse_args()

    started = time.perf_counter()
    proxy = Proxy(args.control_port)
    bench = Bench(proxy, args.block)
    info: dict = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "powergym": powergym.__version__,
        "load_before": os.getloadavg(),
        "calls": args.calls,
        "warmup": args.warmup,
        "block": args.block,
        "has_enroll_faces": hasattr(powergym.Gym, "enroll_faces"),
        "loads": {},
        "checks": {},
    }
    import sqlalchemy, pgvector  # noqa: E401 — versions for the record

    info["sqlalchemy"] = sqlalchemy.__version__
    info["psycopg"] = psycopg.__version__
    info["pgvector_python"] = getattr(pgvector, "__version__", "?")
    info["numpy"] = np.__version__
    with psycopg.connect(args.url) as conn:
        info["server"] = conn.execute("select version()").fetchone()[0]
        info["pgvector"] = conn.execute("select extversion from pg_extension where extname = 'vector'").fetchone()
    bulk = args.faces_by == "bulk" or (args.faces_by == "auto" and info["has_enroll_faces"])

    def desk_run(n: int) -> None:
        pending = max(1, (2 * (args.warmup + args.calls)) + 50)
        gallery = data.identities(n)
        print(f"[{n}] generated {n} identities", file=sys.stderr)

        # The original.
        orig_name = f"powergym_bench_desk_orig_{n}"
        orig_direct = data.recreate_database(args.url, orig_name)
        from original import BOGOTA

        today = dt.datetime.now(BOGOTA).date()
        loaded = data.load_original(orig_direct, Path(args.schema), gallery, pending, today)
        info["loads"][f"original_{n}"] = loaded["times"]
        print(f"[{n}] original loaded: {loaded['times']}", file=sys.stderr)
        orig = Original(
            data.with_port(orig_direct, args.proxy_port).replace("postgres://", "postgresql+psycopg://"), "desk"
        )
        orig_product = loaded["product_id"]

        # Ours on PostgreSQL.
        ours_name = f"powergym_bench_desk_ours_{n}"
        ours_direct = data.recreate_database(args.url, ours_name)
        g = powergym.Gym.connect(ours_direct)
        g.migrate()
        admin, _, plan, product = data.setup_ours(g, "desk")
        t = data.load_ours_sql(g, admin, ours_direct, gallery, pending, plan.id, g.today(), bulk)
        g.close()
        info["loads"][f"ours_pg_{n}"] = t
        print(f"[{n}] ours (PostgreSQL) loaded: {t}", file=sys.stderr)
        ours = powergym.Gym.connect(data.with_port(ours_direct, args.proxy_port))
        desk = ours.acting_as("desk")
        t0 = time.perf_counter()
        cached = ours.enable_face_cache(desk, "int8")
        info["loads"][f"ours_pg_{n}"]["face_cache"] = {"templates": cached, "seconds": time.perf_counter() - t0}
        ours_product = product.id

        # Ours on SQLite (a file, through the API).
        db_path = Path(args.data) / f"desk-{n}.db"
        db_path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        lite = powergym.Gym.connect(f"sqlite://{db_path}")
        lite.migrate()
        lite_admin, lite_desk, lite_plan, lite_product = data.setup_ours(lite, "desk")
        lite_clients, lite_subs, t = data.load_ours_api(lite, lite_admin, gallery, pending, lite_plan.id, bulk)
        info["loads"][f"ours_sqlite_{n}"] = t
        print(f"[{n}] ours (SQLite) loaded: {t}", file=sys.stderr)
        try:
            t0 = time.perf_counter()
            lite_cached = lite.enable_face_cache(lite_desk, "int8")
            info["loads"][f"ours_sqlite_{n}"]["face_cache"] = {
                "templates": lite_cached, "seconds": time.perf_counter() - t0,
            }
        except powergym.PowergymError as e:
            info["loads"][f"ours_sqlite_{n}"]["face_cache"] = f"not enabled: {type(e).__name__}"

        # Targets: the same members, in the same order, for every stack (each its own database).
        rng = np.random.default_rng([data.SEED, n, 1])
        active = rng.permutation(n - pending)
        per = 2 * (args.warmup + args.calls)
        doc_targets = [int(i) for i in active[:per]]
        face_targets = [int(i) for i in active[per : 2 * per]]
        pay_targets = list(range(n - pending, n))
        probes = {i: data.probe(gallery, i) for i in face_targets}
        exact = {i: data.exact_decision(gallery, probes[i]) for i in face_targets}
        info["checks"][f"exact_decisions_{n}"] = {
            "probes": len(exact),
            "match_own_identity": sum(1 for i, d in exact.items() if d == ("match", i)),
        }

        stacks = {}
        # Each stack: name → (latencies, operations)
        stacks["original"] = dict(
            lat=LATENCIES_US,
            doc=lambda i: orig.check_in_by_document(data.document(i)),
            doc_ok=lambda i, r: r["client"]["id"] == data.client_uuid(i) or fail("original doc check-in"),
            pay=lambda i: orig.record_payment(data.subscription_uuid(i), Decimal(10_000), "cash"),
            pay_ok=lambda i, r: (r["status"] == "PENDING_PAYMENT" and r["remaining_debt"] == Decimal(70_000))
            or fail(f"original payment {r}"),
            sale=lambda _: orig.sell(orig_product, Decimal(1)),
            sale_ok=lambda _, r: r["available_quantity"] > 0 or fail("original sale"),
            face=lambda i: orig.check_in_by_face(probes[i]),
            face_ok=lambda i, r: r["client"]["id"] == data.client_uuid(i) or fail("original face check-in"),
            ident=lambda i: orig.identify_face(probes[i]),
            ident_ok=lambda i, r: r["client_id"] == data.client_uuid(i) or fail("original identify"),
        )

        def ours_ops(gym, actor, clients, subs, product_id):
            cid = (lambda i: clients[i]) if clients else data.client_uuid
            sid = (lambda i: subs[i]) if subs else data.subscription_uuid

            def face_ok(i, r, granted):
                outcome = str(getattr(r.outcome, "value", r.outcome))
                if granted and (outcome != "granted" or not r.granted):
                    fail(f"ours face check-in: {outcome}")
                if not granted and outcome != "match":
                    fail(f"ours identify: {outcome}")
                if exact[i] != ("match", i) or r.client_id != cid(i):
                    fail("ours' face decision differs from the exact search")

            return dict(
                doc=lambda i: gym.check_in_by_document(actor, "CC", data.document(i)),
                doc_ok=lambda i, r: r.granted or fail(f"ours doc check-in: {r.reason}"),
                pay=lambda i: gym.record_payment(actor, subscription_id=sid(i), amount=10_000, method="cash"),
                pay_ok=lambda i, r: (str(getattr(r.status, "value", r.status)) == "pending_payment"
                                     and r.balance == Decimal(70_000)) or fail(f"ours payment {r}"),
                sale=lambda _: gym.sell_product(actor, product_id, 1),
                sale_ok=lambda _, r: r.available_quantity > 0 or fail("ours sale"),
                face=lambda i: gym.check_in_by_face(actor, probes[i]),
                face_ok=lambda i, r: face_ok(i, r, True),
                ident=lambda i: gym.identify_face(actor, probes[i]),
                ident_ok=lambda i, r: face_ok(i, r, False),
            )

        stacks["ours"] = dict(lat=LATENCIES_US, **ours_ops(ours, desk, None, None, ours_product))
        stacks["ours SQLite"] = dict(lat=(None,), **ours_ops(lite, lite_desk, lite_clients, lite_subs, lite_product.id))

        operations = [
            ("check-in by document", "doc", doc_targets, True),
            ("payment (partial)", "pay", pay_targets, True),
            ("sale (1 unit)", "sale", [0] * per, True),
            ("check-in by face (cache)", "face", face_targets, True),
            ("identify face (cache)", "ident", face_targets, False),
        ]
        for op_name, key, targets, consumes in operations:
            print(f"[{n}] {op_name}", file=sys.stderr)
            cursors = {name: Cursor(targets) for name in stacks}
            for name, st in stacks.items():
                for lat in st["lat"]:
                    bench.warm(lat, st[key], st[key + "_ok"], cursors[name].take(args.warmup) if consumes else targets[: args.warmup])
            rounds = math.ceil(args.calls / args.block)
            for r in range(rounds):
                k = min(args.block, args.calls - r * args.block)
                order = list(stacks.items())
                if r % 2:
                    order.reverse()
                for lat in (LATENCIES_US if r % 2 == 0 else LATENCIES_US[::-1]):
                    for name, st in order:
                        if lat not in st["lat"] and not (lat == 0 and None in st["lat"]):
                            continue
                        stack_lat = lat if lat in st["lat"] else None
                        tg = cursors[name].take(k) if consumes else targets[r * args.block : r * args.block + k]
                        bench.run_block(n, op_name, name, stack_lat, st[key], st[key + "_ok"], tg)

        ours.close()
        lite.close()
        orig.close()
        if not args.keep:
            data.drop_database(args.url, orig_name)
            data.drop_database(args.url, ours_name)

    def face_run(n: int) -> None:
        from original import BOGOTA

        gallery = data.identities(n)
        today = dt.datetime.now(BOGOTA).date()
        orig_name = f"powergym_bench_desk_orig_{n}"
        orig_direct = data.recreate_database(args.url, orig_name)
        loaded = data.load_original(orig_direct, Path(args.schema), gallery, 0, today)
        info["loads"][f"original_{n}"] = loaded["times"]
        print(f"[{n}] original loaded: {loaded['times']}", file=sys.stderr)
        orig = Original(
            data.with_port(orig_direct, args.proxy_port).replace("postgres://", "postgresql+psycopg://"), "desk"
        )
        ours_name = f"powergym_bench_desk_ours_{n}"
        ours_direct = data.recreate_database(args.url, ours_name)
        g = powergym.Gym.connect(ours_direct)
        g.migrate()
        admin, _, plan, _ = data.setup_ours(g, "desk")
        # By COPY with the vector index dropped, whatever --faces-by says: a first bulk
        # import builds the HNSW index after its rows (many minutes at 100k on two cores),
        # and the cached path measured here never reads that index.
        t = data.load_ours_sql(g, admin, ours_direct, gallery, 0, plan.id, g.today(), False)
        g.close()
        info["loads"][f"ours_pg_{n}"] = t
        print(f"[{n}] ours (PostgreSQL) loaded: {t}", file=sys.stderr)
        ours = powergym.Gym.connect(data.with_port(ours_direct, args.proxy_port))
        desk = ours.acting_as("desk")
        t0 = time.perf_counter()
        cached = ours.enable_face_cache(desk, "int8")
        info["loads"][f"ours_pg_{n}"]["face_cache"] = {"templates": cached, "seconds": time.perf_counter() - t0}
        print(f"[{n}] face cache: {info['loads'][f'ours_pg_{n}']['face_cache']}", file=sys.stderr)

        calls = args.face_calls
        # Members to check in: each stack's through the proxy (a warm-up and the calls
        # at each latency), then ours alone (below).
        per = (len(LATENCIES_US) + 1) * (args.warmup + calls) + args.paced_calls
        rng = np.random.default_rng([data.SEED, n, 2])
        face_targets = [int(i) for i in rng.permutation(n)[:per]]
        probes = {i: data.probe(gallery, i) for i in face_targets}
        exact = {i: data.exact_decision(gallery, probes[i]) for i in face_targets}
        agree = {"probes": len(exact), "exact_match_own_identity": sum(1 for i, d in exact.items() if d == ("match", i)),
                 "ours_same_decision_as_exact": 0, "ours_calls_checked": 0}
        info["checks"][f"exact_decisions_{n}"] = agree

        def ours_face_ok(i, r, granted):
            outcome = str(getattr(r.outcome, "value", r.outcome))
            got = ("match" if outcome in ("granted", "match") else outcome,
                   None if r.client_id is None else r.client_id)
            want = (exact[i][0], None if exact[i][1] is None else data.client_uuid(exact[i][1]))
            agree["ours_calls_checked"] += 1
            if got == want:
                agree["ours_same_decision_as_exact"] += 1
            else:
                fail(f"ours' face decision {got} differs from exact {want}")
            if granted and not r.granted:
                fail(f"ours face check-in: {outcome}")

        stacks = {
            "original": dict(
                face=lambda i: orig.check_in_by_face(probes[i]),
                face_ok=lambda i, r: r["client"]["id"] == data.client_uuid(i) or fail("original face check-in"),
                ident=lambda i: orig.identify_face(probes[i]),
                ident_ok=lambda i, r: r["client_id"] == data.client_uuid(i) or fail("original identify"),
            ),
            "ours": dict(
                face=lambda i: ours.check_in_by_face(desk, probes[i]),
                face_ok=lambda i, r: ours_face_ok(i, r, True),
                ident=lambda i: ours.identify_face(desk, probes[i]),
                ident_ok=lambda i, r: ours_face_ok(i, r, False),
            ),
        }
        for op_name, key, consumes in (
            ("check-in by face (cache)", "face", True),
            ("identify face (cache)", "ident", False),
        ):
            print(f"[{n}] {op_name}", file=sys.stderr)
            cursors = {name: Cursor(face_targets) for name in stacks}
            for name, st in stacks.items():
                for lat in LATENCIES_US:
                    tg = cursors[name].take(args.warmup) if consumes else face_targets[: args.warmup]
                    bench.warm(lat, st[key], st[key + "_ok"], tg)
            rounds = math.ceil(calls / args.block)
            for r in range(rounds):
                k = min(args.block, calls - r * args.block)
                order = list(stacks.items())
                if r % 2:
                    order.reverse()
                for lat in (LATENCIES_US if r % 2 == 0 else LATENCIES_US[::-1]):
                    for name, st in order:
                        if name == "original" and r * args.block >= args.orig_face_calls:
                            continue
                        tg = cursors[name].take(k) if consumes else face_targets[r * args.block : r * args.block + k]
                        bench.run_block(n, op_name, name, lat, st[key], st[key + "_ok"], tg)
        ours.close()
        orig.close()

        # Ours alone, connected directly (no proxy, no other stack between its calls): back
        # to back, as above, and at a desk's pace, each call after `--pace-ms` of quiet, when
        # the gallery's rows have left the CPU's caches and idle cores must wake.
        direct = powergym.Gym.connect(ours_direct)
        direct_desk = direct.acting_as("desk")
        direct.enable_face_cache(direct_desk, "int8")
        alone = dict(
            face=lambda i: direct.check_in_by_face(direct_desk, probes[i]),
            face_ok=lambda i, r: ours_face_ok(i, r, True),
            ident=lambda i: direct.identify_face(direct_desk, probes[i]),
            ident_ok=lambda i, r: ours_face_ok(i, r, False),
        )
        paced = f"ours, direct, {args.pace_ms} ms apart"
        for op_name, key, consumes in (
            ("check-in by face (cache)", "face", True),
            ("identify face (cache)", "ident", False),
        ):
            print(f"[{n}] {op_name}: ours alone", file=sys.stderr)
            # Past the members ours checked in through the proxy.
            fresh = Cursor(face_targets[len(LATENCIES_US) * (args.warmup + calls) :])
            pick = (lambda k, at: fresh.take(k)) if consumes else (lambda k, at: face_targets[at : at + k])
            bench.warm(None, alone[key], alone[key + "_ok"], pick(args.warmup, 0))
            bench.run_block(n, op_name, "ours, direct", None, alone[key], alone[key + "_ok"], pick(calls, 0))
            bench.run_block(n, op_name, paced, None, alone[key], alone[key + "_ok"],
                            pick(args.paced_calls, calls), pause=args.pace_ms / 1000)
        direct.close()
        if not args.keep:
            data.drop_database(args.url, orig_name)
            data.drop_database(args.url, ours_name)

    # The round-trip floor through the proxy: psycopg `select 1`, one round trip.
    def floor_run() -> None:
        conn = psycopg.connect(data.with_port(args.url, args.proxy_port), autocommit=True)
        for lat in LATENCIES_US:
            bench.warm(lat, lambda _: conn.execute("select 1").fetchone(), lambda _t, _r: None, range(args.warmup))
        for r in range(math.ceil(args.calls / args.block)):
            for lat in LATENCIES_US:
                bench.run_block(0, "floor: psycopg select 1", "psycopg", lat,
                                lambda _: conn.execute("select 1").fetchone(), lambda _t, _r: None, range(args.block))
        conn.close()

    floor_run()
    desk_run(args.members)
    if args.face_members:
        face_run(args.face_members)

    info["load_after"] = os.getloadavg()
    info["seconds"] = time.perf_counter() - started
    rows = [s.row() for s in bench.series.values()]
    write(rows, info, Path(args.out))


def fmt_ms(v: float) -> str:
    return f"{v:.2f} ms" if v >= 0.1 else f"{v * 1000:.0f} µs"


def write(rows: list[dict], info: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    base = {(r["members"], r["operation"], r["added_latency_ms"]): r for r in rows if r["stack"] == "original"}
    for r in rows:
        ref = base.get((r["members"], r["operation"], r["added_latency_ms"] if r["added_latency_ms"] is not None else 0.0))
        if ref and r["stack"] != "original":
            r["p50_ratio_to_original"] = r["p50_ms"] / ref["p50_ms"]
            r["p99_ratio_to_original"] = r["p99_ms"] / ref["p99_ms"]
            r["cpu_ratio_to_original"] = r["client_cpu_ms_per_call"] / ref["client_cpu_ms_per_call"]
    (out / "desk.json").write_text(json.dumps({"info": info, "rows": rows}, indent=2, default=str))
    lines = [
        "| members | operation | stack | added latency | round trips | p50 | p99 | client CPU | p50 ours/original | CPU ours/original |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lat = "–" if r["added_latency_ms"] is None else f"{r['added_latency_ms']:g} ms"
        rt = "–" if r["round_trips_per_call"] is None else f"{r['round_trips_per_call']:.1f}"
        ratio = f"{r['p50_ratio_to_original']:.2f}" if "p50_ratio_to_original" in r else ""
        cpu_ratio = f"{r['cpu_ratio_to_original']:.2f}" if "cpu_ratio_to_original" in r else ""
        stack = f"**{r['stack']}**" if r["stack"].startswith("ours") else r["stack"]
        lines.append(
            f"| {r['members'] or ''} | {r['operation']} | {stack} | {lat} | {rt} | {fmt_ms(r['p50_ms'])} | "
            f"{fmt_ms(r['p99_ms'])} | {fmt_ms(r['client_cpu_ms_per_call'])} | {ratio} | {cpu_ratio} |"
        )
    lines.append("")
    lines.append(f"Run: {info['date']}, {info['seconds']:.0f} s, load {info['load_before']} → {info['load_after']}.")
    lines.append(f"Loads: {json.dumps(info['loads'], default=str)}")
    lines.append(f"Checks: {json.dumps(info['checks'], default=str)}")
    md = "\n".join(lines) + "\n"
    (out / "desk.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()

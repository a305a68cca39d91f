"""The in-process comparison, the Python half: numpy ``X @ q`` and faiss
``IndexFlatIP`` on the very files our Rust half (``--bin inprocess``) wrote, one query
at a time (the check-in use case), at one thread and at the libraries' default thread
count, timed in interleaved rounds like ours. Prints a markdown table of p50/p99, the
ratios against ours, and the memory-bandwidth floor.

Usage: python compare.py [DATA_DIR]   (default: target/bench-data)
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

DIM = 512
# Bytes our scan reads per template at each precision (f16 and int8 re-rank 32 rows
# more, which is noise at these sizes). An int8 gallery's single-probe scan reads its
# 4-bit rows (256 bytes, a scale and a residual) since 2026-12-03.
SCANNED_BYTES = {"f32": 2048, "f16": 1024, "int8": 264}


def quantile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank quantile, the same definition as the Rust half."""
    rank = min(max(int(np.ceil(q * len(sorted_values))), 1), len(sorted_values))
    return sorted_values[rank - 1]


def numpy_search(x: np.ndarray):
    """Scores every row, keeps the best two (what identify needs), returns the best."""

    def search(q: np.ndarray) -> int:
        scores = x @ q
        top2 = np.argpartition(scores, -2)[-2:]
        return int(top2[np.argmax(scores[top2])])

    return search


def faiss_search(index: faiss.IndexFlatIP):
    def search(q: np.ndarray) -> int:
        _, ids = index.search(q[None, :], 2)
        return int(ids[0, 0])

    return search


def fmt(micros: float) -> str:
    return f"{micros / 1e3:.2f} ms" if micros >= 1000 else f"{micros:.0f} µs"


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-data")
    report = json.loads((data / "inprocess.json").read_text())
    default_threads = faiss.omp_get_max_threads()
    blas = sorted(
        {
            f"{i.get('internal_api')} {i.get('version')}"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        }
    )
    thread_settings = sorted({1, default_threads})
    table = []
    checks = []
    ratios = []
    floors = []
    for s in report["sets"]:
        n = s["templates"]
        x = np.fromfile(s["gallery_file"], dtype="<f4").reshape(n, DIM)
        probes = np.fromfile(s["probes_file"], dtype="<f4").reshape(-1, DIM)
        ours = {(o["precision"], o["threads"]): o for o in s["ours"]}
        exact = ours[("f32", 1)]["top1"]
        index = faiss.IndexFlatIP(DIM)
        index.add(x)
        searchers = {"numpy": numpy_search(x), "faiss": faiss_search(index)}
        configs = [(engine, t) for t in thread_settings for engine in searchers]

        def limited(threads: int):
            faiss.omp_set_num_threads(threads)
            return threadpool_limits(limits=threads)

        top1 = {}
        for engine, t in configs:  # warm-up pass, which also records the answers
            with limited(t):
                top1[(engine, t)] = [searchers[engine](q) for q in probes]
        micros = {c: [] for c in configs}
        for r in range(s["rounds"]):
            print(f"{n} templates: round {r + 1}/{s['rounds']}", file=sys.stderr)
            for engine, t in configs:
                search = searchers[engine]
                with limited(t):
                    for q in probes:
                        start = time.perf_counter_ns()
                        search(q)
                        micros[(engine, t)].append((time.perf_counter_ns() - start) / 1e3)
        faiss.omp_set_num_threads(default_threads)
        p50 = {("ours", k): o["p50_us"] for k, o in ours.items()}
        for c, m in micros.items():
            m.sort()
            p50[c] = quantile(m, 0.5)

        # The floor of a configuration is the time to read the bytes its scan reads at
        # the best bandwidth this machine showed with as many threads.
        floor_ms = {}
        for t in sorted({r["threads"] for r in s["bandwidth"]["runs"]}):
            runs = [r for r in s["bandwidth"]["runs"] if r["threads"] == t]
            best_gbps = max(r["best_gb_per_s"] for r in runs)
            for p, b in SCANNED_BYTES.items():
                floor_ms[(p, t)] = n * b / best_gbps / 1e6
            floors.append(
                f"| {n:,} | {s['bandwidth']['bytes'] / 1e6:.1f} MB | {t} | "
                + " / ".join(
                    f"{r['best_gb_per_s']:.1f} ({r['median_gb_per_s']:.1f})" for r in runs
                )
                + " | "
                + " / ".join(f"{floor_ms[(p, t)]:.2f}" for p in SCANNED_BYTES)
                + " ms |"
            )

        for engine, t in configs:
            m = micros[(engine, t)]
            agree = sum(a == b for a, b in zip(top1[(engine, t)], exact))
            table.append(
                f"| {n:,} | {engine} f32 | {t} | {fmt(quantile(m, 0.5))} | "
                f"{fmt(quantile(m, 0.99))} | {agree}/{len(exact)} | |"
            )
        for (precision, t), o in ours.items():
            table.append(
                f"| {n:,} | **ours {precision}** | {t} | {fmt(o['p50_us'])} | "
                f"{fmt(o['p99_us'])} | {o['top1_agree_with_f32']}/{len(exact)} | "
                f"{o['p50_us'] / 1e3 / floor_ms[(precision, t)]:.2f} |"
            )
        checks.append(
            f"{n:,} templates: same decision as exact f32 (match, no match or ambiguous, "
            f"same candidate) "
            + ", ".join(
                f"{p}/{t} {o['same_decision_as_f32']}/{len(exact)}" for (p, t), o in ours.items()
            )
            + f"; genuine probes whose top-1 is their identity: "
            f"{min(o['genuine_top1_correct'] for o in ours.values())}/{s['genuine']}."
        )
        for t in thread_settings:
            mine = p50[("ours", ("f32", t))]
            numpy_t, faiss_t = p50[("numpy", t)], p50[("faiss", t)]
            int8 = p50[("ours", ("int8", t))]
            ratios.append(
                f"| {n:,} | {t} | {mine / numpy_t:.2f} | {mine / faiss_t:.2f} | "
                f"**{mine / min(numpy_t, faiss_t):.2f}** | **{numpy_t / int8:.2f}** | "
                f"{numpy_t / p50[('ours', ('f16', t))]:.2f} |"
            )

    machine = report["machine"]
    print(
        f"{machine['cpu']}, {machine['cores']} cores (avx2 {machine['avx2']}, fma "
        f"{machine['fma']}, f16c {machine['f16c']}); load average at the end of the Rust "
        f"half: {machine['loadavg']}; Python {platform.python_version()}, numpy "
        f"{np.__version__} ({', '.join(blas)}), faiss-cpu {faiss.__version__}; default "
        f"threads {default_threads}; re-rank {report['rerank']} candidates."
    )
    print()
    print("| templates | engine | threads | p50 | p99 | top-1 = ours f32 | p50 / floor |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(table))
    print()
    print("\n".join(checks))
    print()
    print(
        "| templates | threads | ours f32 / numpy | ours f32 / faiss | ours f32 / faster "
        "peer (goal ≤ 1.25) | numpy f32 / ours int8 (goal ≥ 3) | numpy f32 / ours f16 |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(ratios))
    print()
    print(
        "| templates | buffer read | threads | GB/s best (median), before / after the "
        "queries | floor f32 / f16 / int8 |"
    )
    print("|---|---|---|---|---|")
    print("\n".join(floors))


if __name__ == "__main__":
    main()

"""The data both stacks hold: faces, members and the loaders.

Identities are uniformly random unit vectors (numpy, seed 2026); a genuine probe of
member i lies at a cosine distance drawn uniformly from 0.20–0.35 of its identity, built
exactly as cos·t + sin·u with u ⟂ t, from a generator seeded by (seed, i), so every
stack sees the same probe for the same member. Member i has id
00000000-0000-0000-0000-<i in hex>, document CC 10000000+i, one consent and one face
template; the last `pending` members hold a pending_payment subscription, every other
member an active, fully paid one. Rows go in by SQL (binary COPY for the templates),
except on SQLite, which is filled through the public API.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg

DIM = 512
SEED = 2026
PLAN_PRICE = 80_000
STOCK = 100_000
# Our match policy (Gym.connect's defaults): within 0.40, runner-up 0.05 behind.
MAX_DISTANCE = 0.40
MARGIN = 0.05


def identities(n: int, seed: int = SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def probe(gallery: np.ndarray, i: int, seed: int = SEED) -> np.ndarray:
    rng = np.random.default_rng([seed, i])
    t = gallery[i].astype(np.float64)
    u = rng.standard_normal(DIM)
    u -= (u @ t) * t
    u /= np.linalg.norm(u)
    d = rng.uniform(0.20, 0.35)
    c = 1.0 - d
    p = c * t + np.sqrt(1.0 - c * c) * u
    return (p / np.linalg.norm(p)).astype(np.float32)


def exact_decision(gallery: np.ndarray, p: np.ndarray) -> tuple[str, int | None]:
    """Our policy on the exact f32 top 2: ('match', i), ('no_match', None), ('ambiguous', i)."""
    d = 1.0 - gallery @ p
    top = np.argpartition(d, 2)[:2]
    top = top[np.argsort(d[top])]
    best, runner = int(top[0]), int(top[1])
    if d[best] > MAX_DISTANCE:
        return ("no_match", None)
    if d[runner] <= MAX_DISTANCE and d[runner] - d[best] < MARGIN:
        return ("ambiguous", best)
    return ("match", best)


def client_uuid(i: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-0000-0000-{i:012x}")


def subscription_uuid(i: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-0000-0001-{i:012x}")


def document(i: int) -> str:
    return str(10_000_000 + i)


# -- databases --------------------------------------------------------------------------


def recreate_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def with_port(url: str, port: int) -> str:
    # postgres://user:pw@host:PORT/db → same with another port.
    scheme, rest = url.split("://", 1)
    auth, _, tail = rest.rpartition("@")
    hostport, _, db = tail.partition("/")
    host = hostport.rsplit(":", 1)[0]
    return f"{scheme}://{auth}@{host}:{port}/{db}"


def _faces_copy(conn: psycopg.Connection, gallery: np.ndarray) -> None:
    """Binary COPY of (idx, embedding) into the temporary table bench_faces."""
    n = len(gallery)
    row = np.dtype(
        [
            ("nfields", ">i2"),
            ("len_idx", ">i4"),
            ("idx", ">i4"),
            ("len_vec", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vec", ">f4", (DIM,)),
        ]
    )
    conn.execute("create temporary table bench_faces (idx int not null, embedding vector(512) not null)")
    with conn.cursor() as cur, cur.copy("copy bench_faces (idx, embedding) from stdin (format binary)") as cp:
        cp.write(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
        step = 5_000
        for start in range(0, n, step):
            end = min(start + step, n)
            rows = np.zeros(end - start, dtype=row)
            rows["nfields"] = 2
            rows["len_idx"] = 4
            rows["idx"] = np.arange(start, end)
            rows["len_vec"] = 4 + 4 * DIM
            rows["dim"] = DIM
            rows["vec"] = gallery[start:end]
            cp.write(rows.tobytes())
        cp.write((-1).to_bytes(2, "big", signed=True))


def load_original(url: str, schema_sql: Path, gallery: np.ndarray, pending: int, today: dt.date) -> dict:
    """The original schema, then its rows: one user, one plan, one stocked product, members."""
    n = len(gallery)
    times = {}
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema_sql.read_text())
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into users (username, hashed_password, role, disabled) values ('desk', 'x', 'EMPLOYEE', false)"
        )
        plan = uuid.uuid4()
        conn.execute(
            "insert into plans (id, name, slug, price, currency, duration_unit, duration_count, is_active, meta_info) "
            "values (%s, 'Monthly', 'monthly', %s, 'COP', 'MONTH', 1, true, '{}')",
            (plan, PLAN_PRICE),
        )
        product = uuid.uuid4()
        conn.execute(
            "insert into products (id, name, capacity_value, unit_type, price, is_active, currency, "
            "available_quantity, min_stock, stock_status, meta_info) "
            "values (%s, 'Water', 600, 'ml', 3000, true, 'COP', %s, 5, 'NORMAL', '{}')",
            (product, STOCK),
        )
        conn.execute(
            "insert into clients (id, dni_type, dni_number, first_name, last_name, phone, birth_date, gender, "
            "is_active, meta_info) "
            "select ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, 'CC', (10000000 + i)::text, "
            "'Bench', 'Member', '3000000000', date '1990-01-01', 'OTHER', true, '{}' "
            "from generate_series(0, %s - 1) as i",
            (n,),
        )
        conn.execute(
            "insert into subscriptions (id, client_id, plan_id, start_date, end_date, status, meta_info) "
            "select ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid, "
            "('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, %s, %s::date - 5, %s::date + 25, "
            "(case when i >= %s then 'PENDING_PAYMENT' else 'ACTIVE' end)::subscription_status_enum, '{}' "
            "from generate_series(0, %s - 1) as i",
            (plan, today, today, n - pending, n),
        )
        conn.execute(
            "insert into payments (id, subscription_id, amount, payment_method, payment_date, meta_info) "
            "select gen_random_uuid(), id, %s, 'CASH', now() - interval '5 days', '{}' "
            "from subscriptions where status = 'ACTIVE'",
            (PLAN_PRICE,),
        )
        times["rows_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        _faces_copy(conn, gallery)
        conn.execute(
            "insert into client_biometrics (id, client_id, type, embedding_vector, is_active, meta_info) "
            "select gen_random_uuid(), ('00000000-0000-0000-0000-' || lpad(to_hex(idx), 12, '0'))::uuid, "
            "'FACE', embedding, true, '{}' from bench_faces"
        )
        conn.commit()
        times["faces_s"] = time.perf_counter() - t1
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    times["total_s"] = time.perf_counter() - t0
    return {"plan_id": plan, "product_id": product, "times": times}


def setup_ours(gym, username: str) -> tuple:
    """Through the API: the admin, the desk employee, the plan and the stocked product."""
    admin = gym.bootstrap_admin("bench-admin", "bench-admin-password-1")
    admin = gym.acting_as("bench-admin")
    gym.create_staff(admin, username=username, password="desk-password-12", role="employee")
    plan = gym.create_plan(admin, name="Monthly", price=PLAN_PRICE, duration_unit="month", duration_count=1)
    product = gym.create_product(admin, name="Water", capacity_value=600, unit_type="ml", price=3000)
    gym.add_stock(admin, product.id, STOCK)
    return admin, gym.acting_as(username), plan, product


def load_ours_sql(gym, admin, direct_url: str, gallery: np.ndarray, pending: int, plan_id, today: dt.date,
                  bulk: bool) -> dict:
    """Members by SQL into the schema the library migrated; templates by binary COPY or,
    with `bulk`, through `Gym.enroll_faces` (one 2-D array)."""
    n = len(gallery)
    times = {}
    t0 = time.perf_counter()
    with psycopg.connect(direct_url) as conn:
        conn.execute(
            "insert into clients (id, dni_type, dni_number, first_name, last_name, phone, birth_date, gender) "
            "select ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, 'CC', (10000000 + i)::text, "
            "'Bench', 'Member', '3000000000', date '1990-01-01', 'other' "
            "from generate_series(0, %s - 1) as i",
            (n,),
        )
        conn.execute(
            "insert into subscriptions (id, client_id, plan_id, start_date, end_date, status, list_price, final_price) "
            "select ('00000000-0000-0000-0001-' || lpad(to_hex(i), 12, '0'))::uuid, "
            "('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, %s, %s::date - 5, %s::date + 25, "
            "(case when i >= %s then 'pending_payment' else 'active' end)::subscription_status_enum, %s, %s "
            "from generate_series(0, %s - 1) as i",
            (plan_id, today, today, n - pending, PLAN_PRICE, PLAN_PRICE, n),
        )
        conn.execute(
            "insert into payments (subscription_id, amount, payment_method, payment_date) "
            "select id, final_price, 'cash', now() - interval '5 days' from subscriptions where status = 'active'"
        )
        conn.execute(
            "insert into biometric_consents (client_id, purpose, granted_at) "
            "select id, 'face check-in (benchmark)', now() from clients"
        )
        conn.commit()
        times["rows_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    times["faces_by"] = None
    if bulk:
        times["faces_by"] = _enroll_bulk(gym, admin, [client_uuid(i) for i in range(n)], gallery)
    if times["faces_by"] is None:
        with psycopg.connect(direct_url) as conn:
            # The HNSW build would dominate the load (minutes at 100k); the measured face
            # paths use the in-process cache, which never reads it.
            conn.execute("drop index if exists idx_biometrics_embedding")
            _faces_copy(conn, gallery)
            conn.execute(
                "insert into biometrics (client_id, embedding) "
                "select ('00000000-0000-0000-0000-' || lpad(to_hex(idx), 12, '0'))::uuid, embedding "
                "from bench_faces"
            )
            conn.commit()
        times["faces_by"] = "binary COPY (HNSW index dropped)"
    times["faces_s"] = time.perf_counter() - t1
    with psycopg.connect(direct_url, autocommit=True) as conn:
        conn.execute("vacuum analyze")
    times["total_s"] = time.perf_counter() - t0
    return times


def _enroll_bulk(gym, admin, clients, gallery) -> str | None:
    """`Gym.enroll_faces(actor, client_ids, 2-D array)` when the binding has it; None
    when it is missing or takes other arguments (the caller then loads another way)."""
    if not hasattr(gym, "enroll_faces"):
        return None
    try:
        gym.enroll_faces(admin, clients, gallery)
    except TypeError as e:
        print(f"enroll_faces not usable here ({e}); loading templates another way")
        return None
    return "Gym.enroll_faces"


def load_ours_api(gym, admin, gallery: np.ndarray, pending: int, plan_id, bulk: bool) -> tuple[list, list, dict]:
    """Members through the public API (SQLite): register, subscribe, pay in full unless
    pending, consent, enrol. Returns client ids and subscription ids by member index."""
    n = len(gallery)
    times = {}
    t0 = time.perf_counter()
    clients, subscriptions = [], []
    for i in range(n):
        c = gym.register_client(
            admin, document_type="CC", document_number=document(i), first_name="Bench",
            last_name="Member", phone="3000000000", birth_date=dt.date(1990, 1, 1), gender="other",
        )
        s = gym.create_subscription(admin, client_id=c.id, plan_id=plan_id)
        if i < n - pending:
            gym.record_payment(admin, subscription_id=s.id, amount=PLAN_PRICE, method="cash")
        gym.record_biometric_consent(admin, c.id, purpose="face check-in (benchmark)")
        clients.append(c.id)
        subscriptions.append(s.id)
    times["rows_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    times["faces_by"] = _enroll_bulk(gym, admin, clients, gallery) if bulk else None
    if times["faces_by"] is None:
        for i in range(n):
            gym.enroll_face(admin, clients[i], gallery[i])
        times["faces_by"] = "Gym.enroll_face, one by one"
    times["faces_s"] = time.perf_counter() - t1
    times["total_s"] = time.perf_counter() - t0
    return clients, subscriptions, times

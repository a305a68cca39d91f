"""Per-test databases: on the real PostgreSQL server named by DATABASE_URL, and in a
SQLite file of their own.

`gym_url`, and the `gym` and `admin` fixtures built on it, run each test once per store
(POWERGYM_TEST_STORES, default "postgres,sqlite"): what a user of the library sees must
be the same on both. `db_url` is PostgreSQL's alone, for tests of PostgreSQL itself."""

import asyncio
import contextlib
import os
import subprocess
import time
import uuid

import pytest

import powergym

DEFAULT_URL = "postgres://powergym:powergym@127.0.0.1:5432/powergym"


def admin_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def url_for(database: str) -> str:
    base = admin_url()
    prefix, _, rest = base.rpartition("/")
    query = rest.partition("?")[2]
    return f"{prefix}/{database}" + (f"?{query}" if query else "")


def psql(sql: str, url: str | None = None) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url or admin_url(), "-c", sql],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def db_url():
    name = f"powergym_pytest_{uuid.uuid4().hex[:12]}"
    psql(f'create database "{name}"')
    try:
        yield url_for(name)
    finally:
        psql(f'drop database if exists "{name}" with (force)')


STORES = [s for s in os.environ.get("POWERGYM_TEST_STORES", "postgres,sqlite").split(",") if s]


@pytest.fixture(params=STORES)
def gym_url(request, tmp_path):
    """A new, empty database on each store in turn. A test that also asks for `db_url`
    checks PostgreSQL itself: it runs on PostgreSQL only, on that database."""
    if "db_url" in request.fixturenames or request.node.get_closest_marker("postgres_only"):
        if request.param != "postgres":
            pytest.skip("checks PostgreSQL itself")
        if "db_url" in request.fixturenames:
            yield request.getfixturevalue("db_url")
            return
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/gym.db"
        return
    name = f"powergym_pytest_{uuid.uuid4().hex[:12]}"
    psql(f'create database "{name}"')
    try:
        yield url_for(name)
    finally:
        psql(f'drop database if exists "{name}" with (force)')


def execute(url: str, postgres_sql: str, sqlite_sql: str) -> None:
    """Runs SQL the library would not (moving rows back in time, say) on either store,
    each in its own dialect (SQLite stores instants as microseconds since the epoch)."""
    if url.startswith("sqlite://"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db:
            db.execute("pragma foreign_keys = on")
            db.executescript(sqlite_sql)
            db.commit()
    else:
        psql(postgres_sql, url)


@pytest.fixture
def gym(gym_url):
    with powergym.Gym.connect(gym_url, max_connections=10) as g:
        g.migrate()
        yield g


@pytest.fixture
def admin(gym):
    gym.bootstrap_admin("admin", "admin-password")
    return gym.authenticate("admin", "admin-password")


def hold_lock(url: str, table: str, seconds: float) -> subprocess.Popen:
    """Another session that holds `table` exclusively for `seconds`."""
    return subprocess.Popen(
        ["psql", "-X", "-q", url, "-c",
         f"begin; lock table {table} in access exclusive mode; select pg_sleep({seconds}); commit;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def wait_for_lock(url: str, table: str) -> None:
    """Returns once some session holds `table` exclusively (at most 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        held = subprocess.run(
            ["psql", "-X", "-At", url, "-c",
             "select count(*) from pg_locks where mode = 'AccessExclusiveLock' and granted "
             f"and relation = '{table}'::regclass"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        if held != "0":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nobody took the lock on {table}")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "postgres_only: checks PostgreSQL's own machinery; skipped on other stores"
    )

"""Operating the database from Python: the health report as typed records, vacuum/analyze
and the face-index rebuild. The verdicts' thresholds are core's and tested there; these
tests check what crosses the boundary."""

import datetime
import os
import subprocess
import time

import pytest

import powergym
from powergym import Verdict
from powergym import exceptions as exc

from conftest import psql

LINES = [
    "schema",
    "database_size",
    "connections",
    "slow_queries",
    "unused_indexes",
    "duplicate_indexes",
    "invalid_indexes",
    "dead_rows",
    "lock_waits",
    "face_index",
    "face_cache_memory",
]

# The health report, roles and the vector index are PostgreSQL's (see test_sqlite.py).
pytestmark = pytest.mark.postgres_only


def test_a_migrated_database_reports_every_line_in_order(gym, db_url):
    report = gym.health_report()
    assert isinstance(report, powergym.HealthReport)
    assert [c.name for c in report.checks] == LINES
    assert all(isinstance(c, powergym.HealthCheck) and c.summary for c in report.checks)
    assert {c.verdict for c in report.checks} <= {v.value for v in Verdict}
    assert Verdict(report.verdict) in Verdict
    assert report.verdict in {c.verdict for c in report.checks}

    schema = report.check("schema")
    assert schema == report.checks[0]
    assert schema.verdict == Verdict.OK
    assert report.schema.database_version == powergym.latest_schema_version()
    assert report.schema.library_version == powergym.latest_schema_version()
    assert (report.schema.pending, report.schema.unknown, report.schema.edited) == (0, 0, 0)
    assert report.check("no_such_line") is None

    assert report.generated_at.tzinfo is not None
    assert abs(datetime.datetime.now(datetime.timezone.utc) - report.generated_at) < datetime.timedelta(minutes=5)
    assert report.database.name == db_url.rpartition("/")[2]
    assert isinstance(report.database.bytes, int) and report.database.bytes > 0
    assert report.database.previous_bytes is None and report.database.previous_at is None

    tables = {t.name: t for t in report.tables}
    assert "clients" in tables
    assert tables["clients"].total_bytes > 0
    assert 0.0 <= tables["clients"].dead_share <= 1.0
    assert report.connections.this_database >= 1
    assert report.connections.usable > 0
    assert isinstance(report.slow_queries.available, bool)
    assert report.slow_queries.available or report.slow_queries.note
    assert report.invalid_indexes == []
    assert report.lock_waits == []
    assert report.face.templates == 0
    # No face index since migration 0017: the in-process cache searches, and health says
    # so without alarm while the gallery fits its budget.
    assert not report.face.index_valid and report.face.index_bytes is None
    assert report.check("face_index").verdict == Verdict.OK
    assert "in-process cache" in report.check("face_index").summary

    text = repr(report)
    assert text.startswith(f"HealthReport(verdict='{report.verdict}'")
    assert "checks=<11 items>" in text
    assert repr(schema).startswith("HealthCheck(name='schema', verdict='ok'")


def test_a_second_report_knows_the_previous_size(gym):
    first = gym.health_report()
    second = gym.health_report()
    assert second.database.previous_bytes == first.database.bytes
    assert second.database.previous_at is not None
    assert second.database.previous_at.tzinfo is not None
    clients = next(t for t in second.tables if t.name == "clients")
    assert clients.previous_bytes is not None
    assert "since the previous report" in second.check("database_size").summary


def _rows(sql: str, url: str) -> str:
    return subprocess.run(
        ["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _session(sql: str, url: str, application: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["psql", "-X", "-q", url, "-c", sql],
        env={**os.environ, "PGAPPNAME": application},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_session_waiting_on_a_held_row_lock_is_reported(gym, db_url):
    # A row lock, not a table lock: the report reads every table's size, and must not
    # be the one waiting.
    psql("create table pytest_scratch (id int primary key); insert into pytest_scratch values (1)", db_url)
    holder = _session(
        "begin; update pytest_scratch set id = id; select pg_sleep(60)",
        db_url,
        "pytest_lock_holder",
    )
    waiter = None
    try:
        deadline = time.monotonic() + 10
        while _rows(
            "select count(*) from pg_stat_activity "
            "where application_name = 'pytest_lock_holder' and wait_event = 'PgSleep'",
            db_url,
        ) != "1":
            assert time.monotonic() < deadline, "the holder never took its lock"
            time.sleep(0.1)
        waiter = _session("update pytest_scratch set id = 2", db_url, "pytest_lock_waiter")

        deadline = time.monotonic() + 15
        while True:
            report = gym.health_report()
            waits = [w for w in report.lock_waits if w.waiting.application == "pytest_lock_waiter"]
            if waits and waits[0].waiting_seconds >= 1.0:
                break
            assert time.monotonic() < deadline, f"no lock wait of a second reported: {report.lock_waits}"
            time.sleep(0.2)

        wait = waits[0]
        assert isinstance(wait, powergym.LockWait)
        assert isinstance(wait.waiting, powergym.SessionInfo)
        assert [s.application for s in wait.blocked_by] == ["pytest_lock_holder"]
        assert wait.blocked_by[0].state == "active"
        assert wait.blocked_by[0].transaction_seconds is not None
        assert wait.waiting.role
        assert wait.lock_type == "transactionid"
        assert wait.mode == "ShareLock"
        assert wait.relation is None
        assert report.check("lock_waits").verdict == Verdict.WARN
        assert report.verdict in (Verdict.WARN, Verdict.CRITICAL)
        assert "update" not in repr(wait).lower()
        assert f"pid={wait.waiting.pid}" in repr(wait)
    finally:
        psql(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where application_name in ('pytest_lock_holder', 'pytest_lock_waiter')",
            db_url,
        )
        for session in (holder, waiter):
            if session is not None:
                try:
                    session.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    session.kill()
                    session.wait()


def test_vacuum_analyze_returns_the_tables_done(gym):
    tables = gym.vacuum_analyze()
    assert isinstance(tables, list) and all(isinstance(t, str) for t in tables)
    assert "clients" in tables
    assert "biometrics" in tables
    analyzed = next(t for t in gym.health_report().tables if t.name == "clients")
    assert analyzed.last_vacuum is not None and analyzed.last_vacuum.tzinfo is not None
    assert analyzed.last_analyze is not None


def test_rebuild_face_index(gym):
    built = gym.rebuild_face_index()  # none in the schema: built
    assert built.bytes_before == 0 and built.bytes_after > 0
    rebuilt = gym.rebuild_face_index()
    assert isinstance(rebuilt, powergym.IndexRebuild)
    assert rebuilt.index == "idx_biometrics_embedding"
    assert rebuilt.bytes_before > 0 and rebuilt.bytes_after > 0
    assert rebuilt.dropped_leftovers == []
    assert isinstance(rebuilt.elapsed_seconds, float) and rebuilt.elapsed_seconds >= 0.0
    assert repr(rebuilt).startswith("IndexRebuild(index='idx_biometrics_embedding'")
    report = gym.health_report()
    assert report.face.index_valid
    assert report.check("face_index").verdict == Verdict.OK


def test_grant_app_role_gives_rows_and_refuses_a_superuser(gym, db_url):
    gym.grant_app_role("powergym_app")  # made by scripts/setup-postgres.sh
    granted = subprocess.run(
        ["psql", "-X", "-tA", db_url, "-c",
         "select has_table_privilege('powergym_app', 'clients', 'insert'), "
         "has_table_privilege('powergym_app', 'powergym_schema_migrations', 'insert')"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert granted == "t|f"
    with pytest.raises(exc.ValidationError) as info:
        gym.grant_app_role("powergym")
    assert info.value.field == "role"

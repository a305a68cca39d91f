"""Adoption of an original PowerGym database from Python, as the original's operators
would run it: the dry run, then the adoption, then the gym on the result."""

import decimal
import pathlib
import subprocess

import pytest

import powergym
from powergym import exceptions as exc

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "powergym-core/tests/fixtures/original"


def expectations() -> dict[str, str]:
    out = {}
    for line in (FIXTURE / "data.sql").read_text().splitlines():
        line = line.strip()
        if line.startswith("-- expect:"):
            key, _, value = line[len("-- expect:"):].strip().partition("=")
            out[key.strip()] = value.strip()
    return out


def load_original(url: str) -> None:
    for name in ("schema.sql", "data.sql"):
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", str(FIXTURE / name)],
            check=True,
            capture_output=True,
        )


def query(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


ROWS = (
    "select md5(string_agg(x, '|' order by x)) from ("
    " select 'clients' || c::text as x from clients c union all"
    " select 'subscriptions' || s::text from subscriptions s union all"
    " select 'payments' || p::text from payments p union all"
    " select 'attendances' || a::text from attendances a) t"
)


def test_the_dry_run_then_the_adoption_from_python(db_url):
    load_original(db_url)
    e = expectations()
    before = query(db_url, ROWS)

    plan = powergym.adoption_plan(db_url)
    assert isinstance(plan, powergym.AdoptionReport)
    assert plan.applied is False
    assert query(db_url, ROWS) == before, "the dry run changed nothing"
    for t in plan.tables:
        assert t.before == t.adopted + t.set_aside
        assert t.before == int(e[f"rows_{t.table}"])
    assert plan.payments_before == decimal.Decimal(e["payments_total"])
    assert plan.payments_adopted + plan.payments_set_aside == plan.payments_before
    assert plan.payments_set_aside.as_tuple().exponent == -2, "money has two places"
    assert plan.set_aside_for("no_biometric_consent") == int(e["biometrics"])
    assert plan.changes_of("overlap_canceled") == int(e["overlapping_subscriptions"])
    reasons = {s.reason for s in plan.set_aside}
    assert "duplicate_attendance" in reasons and "payment_exceeds_price" in reasons
    assert "Gómez" not in repr(plan.set_aside) + "".join(s.detail for s in plan.set_aside)

    report = powergym.adopt(db_url)
    assert report.applied is True
    assert [t.adopted for t in report.tables] == [t.adopted for t in plan.tables]
    assert report.table("payments").set_aside == report.set_aside_for(
        "payment_exceeds_price"
    ) + report.set_aside_for("subscription_set_aside")

    with powergym.Gym.connect(db_url) as gym:
        gym.check_schema()
        admin = gym.authenticate("admin", e["admin_password"])
        assert admin.username == "admin"

    with pytest.raises(exc.ConflictError, match="adopted already"):
        powergym.adopt(db_url)


def test_a_database_that_is_not_the_originals_is_refused(db_url):
    with pytest.raises(exc.ConflictError, match="alembic_version"):
        powergym.adoption_plan(db_url)
    with pytest.raises(exc.ValidationError):
        powergym.adoption_plan(db_url, time_zone="Mars/Olympus")

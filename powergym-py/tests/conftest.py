"""Per-test databases on the real PostgreSQL server named by DATABASE_URL."""

import os
import subprocess
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


@pytest.fixture
def gym(db_url):
    with powergym.Gym.connect(db_url, max_connections=10) as g:
        g.migrate()
        yield g


@pytest.fixture
def admin(gym):
    gym.bootstrap_admin("admin", "admin-password")
    return gym.authenticate("admin", "admin-password")

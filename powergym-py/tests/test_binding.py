"""The binding itself: connection errors, schema operations, the exception tree, pure
rules, the GIL and fork safety."""

import datetime
import os
import threading
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

import powergym
from powergym import exceptions as exc

from conftest import admin_url, psql


def test_every_exception_class_is_a_powergym_error():
    names = [n for n in exc.__all__ if n != "PowergymError"]
    assert len(names) == 18
    for name in names:
        assert issubclass(getattr(exc, name), exc.PowergymError)
    assert issubclass(exc.PowergymError, Exception)
    assert exc.PowergymError.__module__ == "powergym.exceptions"


def test_bad_url_and_unreachable_server():
    with pytest.raises(exc.InvalidDatabaseUrlError) as info:
        powergym.Gym.connect("mysql://u:hunter2@localhost/db")
    assert "hunter2" not in str(info.value)
    with pytest.raises(exc.ConnectionFailedError):
        powergym.Gym.connect("postgres://u:hunter2@127.0.0.1:1/db", acquire_timeout=5)
    with pytest.raises(exc.ValidationError) as info:
        powergym.Gym.connect(admin_url(), time_zone="Mars/Olympus")
    assert info.value.field == "time_zone"


def test_schema_operations(db_url):
    with powergym.Gym.connect(db_url) as gym:
        latest = powergym.latest_schema_version()
        assert gym.current_version() == 0
        with pytest.raises(exc.SchemaOutOfDateError) as info:
            gym.check_schema()
        assert (info.value.database_version, info.value.library_version) == (0, latest)

        gym.migrate_to(2)
        history = gym.history()
        assert [r.version for r in history if r.is_applied] == [1, 2]
        assert all(len(r.checksum) == 96 for r in history)
        gym.migrate()
        gym.check_schema()
        gym.revert()
        assert gym.current_version() == latest - 1
        with pytest.raises(exc.ValidationError, match="confirm"):
            gym.revert_to(0)
        assert gym.current_version() == latest - 1, "refused: nothing reverted"
        gym.revert_to(0, confirm_data_loss=True)
        assert gym.current_version() == 0
        gym.migrate()
        with pytest.raises(exc.ValidationError, match="confirm"):
            gym.stamp(3)
        assert gym.current_version() == latest
        gym.stamp(3, confirm_data_loss=True)
        assert gym.current_version() == 3
        with pytest.raises(exc.ValidationError):
            gym.migrate_to(999)


def test_edited_migration_is_a_conflict(gym, db_url):
    psql("update powergym_schema_migrations set checksum = '\\x00' where version = 1", db_url)
    with pytest.raises(exc.ConflictError):
        gym.check_schema()


def test_missing_extension(db_url):
    role = "powergym_pytest_limited"
    database = db_url.rpartition("/")[2]
    psql(f"drop role if exists {role}")
    psql(f"create role {role} login password 'limited'")
    psql(f'grant all on database "{database}" to {role}')
    psql(f"grant all on schema public to {role}", db_url)
    try:
        limited = db_url.replace("powergym:powergym@", f"{role}:limited@", 1)
        with powergym.Gym.connect(limited) as gym:
            with pytest.raises(exc.ExtensionMissingError) as info:
                gym.migrate()
        assert info.value.extension == "vector"
        assert "CREATE EXTENSION vector" in info.value.hint
    finally:
        psql(f"revoke all on schema public from {role}", db_url)
        psql(f'revoke all on database "{database}" from {role}')
        psql(f"drop role {role}")


def test_a_role_out_of_connection_slots_is_resource_exhausted():
    # The server answers SQLSTATE 53300 (too many connections for role), as it does when
    # every slot of the server is taken.
    role = f"powergym_pytest_noslots_{uuid.uuid4().hex[:8]}"
    psql(f"create role {role} login password 'x' connection limit 0")
    try:
        parts = urlsplit(admin_url())
        host = parts.netloc.rpartition("@")[2]
        limited = urlunsplit(parts._replace(netloc=f"{role}:x@{host}"))
        with pytest.raises(exc.ResourceExhaustedError) as info:
            powergym.Gym.connect(limited)
        assert info.value.kind == "resource_exhausted"
        assert info.value.resource == "connections"
        assert "max_connections" in info.value.hint
        assert role not in str(info.value)
    finally:
        psql(f"drop role if exists {role}")


def test_state_machine_rules():
    assert powergym.transition("pending_payment", "pay", fully_paid=True, start_reached=True) == "active"
    assert (
        powergym.transition(
            powergym.SubscriptionStatus.SCHEDULED,
            powergym.SubscriptionEvent.START_DATE_REACHED,
            fully_paid=False,
            start_reached=True,
        )
        == powergym.SubscriptionStatus.PENDING_PAYMENT
    )
    with pytest.raises(exc.InvalidTransitionError) as info:
        powergym.transition("canceled", "cancel", fully_paid=True, start_reached=True)
    assert (info.value.from_status, info.value.event) == ("canceled", "cancel")
    today = datetime.date(2025, 6, 15)
    assert powergym.initial_status(today, today, price_is_zero=True) == "active"
    assert powergym.initial_status(today + datetime.timedelta(days=1), today, price_is_zero=False) == "scheduled"


def test_waiting_calls_release_the_gil(db_url):
    counter = 0
    stop = threading.Event()

    def spin():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    with powergym.Gym.connect(db_url) as gym:
        worker = threading.Thread(target=spin)
        worker.start()
        try:
            before = counter
            gym.migrate()  # several round trips: the other thread must run meanwhile
            during = counter - before
        finally:
            stop.set()
            worker.join()
    assert during > 1000, f"the other thread ran only {during} iterations"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_gets_a_working_runtime(gym, admin, db_url):
    assert gym.list_clients(admin).total == 0  # the parent's runtime exists now
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            with powergym.Gym.connect(db_url) as child_gym:
                child_admin = child_gym.acting_as("admin")
                code = 0 if child_gym.list_clients(child_admin).total == 0 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_python_enum_labels_are_the_labels_core_accepts():
    # The str Enums in powergym/__init__.py are written by hand; this keeps them in step
    # with core: every label must parse there, and core must know no label they lack.
    today = datetime.date(2025, 6, 15)
    for status in powergym.SubscriptionStatus:
        for event in powergym.SubscriptionEvent:
            try:
                powergym.transition(status, event, fully_paid=True, start_reached=True)
            except exc.InvalidTransitionError:
                pass  # a known label, an illegal pair
    with pytest.raises(exc.ValidationError):
        powergym.transition("paid", "pay", fully_paid=True, start_reached=True)
    assert {powergym.initial_status(today + datetime.timedelta(days=d), today, price_is_zero=z)
            for d in (0, 1) for z in (False, True)} <= {s.value for s in powergym.SubscriptionStatus}


def test_every_document_type_label_is_known_to_core(gym, admin):
    # "12345678" is a well-formed number for every type, so only the label is tested.
    for doc_type in powergym.DocumentType:
        with pytest.raises(exc.NotFoundError):
            gym.get_client_by_document(admin, doc_type, "12345678")

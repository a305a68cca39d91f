"""Fork safety: a Gym belongs to the process that opened it. A child that uses its
parent's handle gets ConnectionFailedError at once (it never touches the parent's
sockets), dropping the handle in the child leaves the parent's connections open, and a
child opens its own Gym as usual. The parent keeps working afterwards."""

import gc
import multiprocessing
import os
import sys

import pytest

import powergym
from powergym.exceptions import ConnectionFailedError

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

# Exit statuses a forked child reports to the parent.
OK, NOT_REFUSED, WRONG_ERROR, OWN_GYM_FAILED, CRASHED = 0, 10, 11, 12, 13

# The handle the pool workers inherit; set by the test before the pool forks.
PARENT_GYM = None


def child_sees(parent, admin, url):
    """Runs in the forked child; returns one of the exit statuses above."""
    try:
        try:
            parent.list_clients(admin)
        except ConnectionFailedError as e:
            if "opened in another process" not in str(e):
                return WRONG_ERROR
        else:
            return NOT_REFUSED
        for call in (lambda: parent.current_version(), lambda: parent.disable_face_cache()):
            try:
                call()
                return NOT_REFUSED
            except ConnectionFailedError:
                pass
        parent.close()  # nothing to close in the child; must neither raise nor close
        del parent
        gc.collect()  # drops the child's copy: leaked, so the parent's sockets stay open
        with powergym.Gym.connect(url, max_connections=1) as own:
            own_admin = own.acting_as(admin.username)
            if own.list_clients(own_admin).total != 1:
                return OWN_GYM_FAILED
        return OK
    except BaseException:  # anything else: report it rather than run the parent's tests
        return CRASHED


def test_a_forked_child_is_refused_the_parents_gym_and_opens_its_own(db_url, gym, admin):
    gym.register_client(
        admin, document_type="CC", document_number="1020304050", first_name="Ana",
        last_name="Gómez", phone="3001234567", birth_date=__import__("datetime").date(1990, 1, 1),
        gender="female",
    )
    # One connection, never pinged before use: if the child closed it, the parent's next
    # call would fail instead of quietly reconnecting.
    parent = powergym.Gym.connect(db_url, max_connections=1, min_connections=1,
                                  test_before_acquire=False)
    assert parent.list_clients(admin).total == 1
    pid = os.fork()
    if pid == 0:
        status = child_sees(parent, admin, db_url)
        sys.stdout.flush()
        os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), status
    assert os.WEXITSTATUS(status) == OK, os.WEXITSTATUS(status)
    # The parent's handle and its one connection still work.
    for _ in range(3):
        assert parent.list_clients(admin).total == 1
    assert parent.current_version() == powergym.latest_schema_version()
    parent.close()
    assert gym.list_clients(admin).total == 1


def worker(url):
    """Runs in a pool worker forked from the test: the inherited handle is refused, a
    Gym of its own works."""
    try:
        PARENT_GYM.current_version()
        inherited = "usable"
    except ConnectionFailedError as e:
        inherited = "refused" if "open a new one after fork" in str(e) else repr(e)
    with powergym.Gym.connect(url, max_connections=1) as own:
        return inherited, own.current_version(), os.getpid()


def test_a_fork_pool_of_workers_each_opening_their_own_gym(db_url, gym, admin):
    global PARENT_GYM
    PARENT_GYM = gym
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            results = pool.map(worker, [db_url] * 4)
    finally:
        PARENT_GYM = None
    head = powergym.latest_schema_version()
    assert [(inherited, version) for inherited, version, _ in results] == [("refused", head)] * 4
    assert all(pid != os.getpid() for _, _, pid in results)
    # The parent's handle was never touched by the workers.
    assert gym.current_version() == head
    assert gym.list_clients(admin).total == 0

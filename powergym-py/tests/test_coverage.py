"""Every use case of the Rust facade is offered by `Gym` and by `AsyncGym`.

The list comes from core: conformance/use-cases.txt is generated from `impl Gym` in
powergym-core and checked against it by a core test, so a method added there fails here
until the binding offers it or this file says why not."""

import inspect
import pathlib
import subprocess
import sys

import powergym

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Offered under another name: Python's getters say what they get.
RENAMED = {
    "client": "get_client",
    "client_by_document": "get_client_by_document",
    "plan": "get_plan",
    "plan_by_slug": "get_plan_by_slug",
    "product": "get_product",
    "subscription": "get_subscription",
    "connect_with": "connect",
    "open": "connect",
    "open_with": "connect",
}

# Offered by another method's keyword argument.
FOLDED = {
    "list_clients_filtered": ("list_clients", "active"),
    "check_in_with_key": ("check_in", "idempotency_key"),
    "check_in_by_document_with_key": ("check_in_by_document", "idempotency_key"),
    "sell_product_with_key": ("sell_product", "idempotency_key"),
}

# Deliberately not offered, and why.
LEFT_OUT = {
    "from_pool": "wraps a Rust sqlx pool, which Python cannot hold",
    "from_sqlite": "wraps a Rust SqliteStore value; connect('sqlite://...') opens one",
    "migrations": "a Rust accessor; its operations are Gym methods (migrate, revert_to, stamp, history, ...)",
    "operations": "a Rust accessor; its operations are Gym methods (health_report, vacuum_analyze, ...)",
    "load_face_matcher": "returns a Rust in-process matcher; Python uses enable_face_cache instead",
    "calendar": "a Rust value; the time zone is given to connect() and today() answers from it",
}


def use_cases():
    lines = (ROOT / "conformance/use-cases.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_the_list_is_read():
    names = use_cases()
    assert len(names) > 60 and "check_in_by_document" in names


def test_every_use_case_is_offered_blocking_and_async():
    missing = []
    for name in use_cases():
        if name in LEFT_OUT:
            continue
        if name in FOLDED:
            method, keyword = FOLDED[name]
            for cls in (powergym.Gym, powergym.AsyncGym):
                sig = inspect.signature(getattr(cls, method))
                if keyword not in sig.parameters:
                    missing.append(f"{cls.__name__}.{method}({keyword}=...) for {name}")
            continue
        py_name = RENAMED.get(name, name)
        for cls in (powergym.Gym, powergym.AsyncGym):
            if not hasattr(cls, py_name):
                missing.append(f"{cls.__name__}.{py_name} (core: {name})")
    assert not missing, "use cases missing from the binding: " + ", ".join(missing)


def test_the_exceptions_are_real_use_cases():
    names = set(use_cases())
    stale = (set(RENAMED) | set(FOLDED) | set(LEFT_OUT)) - names
    assert not stale, f"listed here but not in core any more: {sorted(stale)}"


def test_both_classes_offer_the_same_methods_with_the_same_parameters():
    def methods(cls):
        return {n for n in dir(cls) if not n.startswith("_")}

    assert methods(powergym.Gym) == methods(powergym.AsyncGym)
    for name in methods(powergym.Gym):
        blocking = inspect.signature(getattr(powergym.Gym, name))
        awaiting = inspect.signature(getattr(powergym.AsyncGym, name))
        assert list(blocking.parameters) == list(awaiting.parameters), name


def test_the_async_stub_is_derived_from_the_blocking_one():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts/async-stub.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

"""The Python suite's per-test databases (powergym-py/tests/conftest.py), reused."""

import importlib.util
import pathlib

_path = pathlib.Path(__file__).resolve().parents[3] / "powergym-py/tests/conftest.py"
_spec = importlib.util.spec_from_file_location("powergym_test_databases", _path)
assert _spec and _spec.loader
databases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(databases)

db_url = databases.db_url

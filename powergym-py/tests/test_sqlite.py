"""The embedded SQLite store from Python: no server, one file, typed errors for a file
that cannot be used, and what PostgreSQL alone offers refused by name."""

import datetime
import os
import sqlite3
from decimal import Decimal

import numpy as np
import pytest

import powergym
from powergym import exceptions


def opened(path, **kw):
    gym = powergym.Gym.connect(f"sqlite://{path}", **kw)
    gym.migrate()
    return gym


def test_a_gym_in_a_file_keeps_its_data_across_handles(tmp_path):
    path = tmp_path / "gym.db"
    with opened(path) as gym:
        gym.bootstrap_admin("admin", "admin-password")
        admin = gym.acting_as("admin")
        plan = gym.create_plan(admin, name="Mes", price=Decimal("1000"), duration_unit="month", duration_count=1)
    with powergym.Gym.connect(f"sqlite://{path}") as again:
        again.check_schema()
        assert again.get_plan(again.acting_as("admin"), plan.id) == plan


def test_two_handles_on_one_file_see_each_others_faces(tmp_path):
    path = tmp_path / "gym.db"
    with opened(path) as desk, powergym.Gym.connect(f"sqlite://{path}") as kiosk:
        desk.bootstrap_admin("admin", "admin-password")
        admin = desk.acting_as("admin")
        ana = desk.register_client(
            admin, document_type="CC", document_number="123456", first_name="Ana", last_name="Mora",
            phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female")
        face = np.random.default_rng(3).standard_normal(512).astype(np.float32)
        face /= np.linalg.norm(face)
        assert kiosk.identify_face(kiosk.acting_as("admin"), face).client_id is None
        desk.record_biometric_consent(admin, ana.id, purpose="entrada")
        desk.enroll_face(admin, ana.id, face)
        assert kiosk.identify_face(kiosk.acting_as("admin"), face).client_id == ana.id
        desk.remove_face(admin, ana.id)
        assert kiosk.identify_face(kiosk.acting_as("admin"), face).client_id is None


def test_postgres_operations_are_refused_by_name_and_vacuum_works(tmp_path):
    with opened(tmp_path / "gym.db") as gym:
        with pytest.raises(exceptions.UnsupportedError) as info:
            gym.health_report()
        assert info.value.store == "sqlite" and info.value.remedy
        with pytest.raises(exceptions.UnsupportedError):
            gym.grant_app_role("app")
        with pytest.raises(exceptions.UnsupportedError):
            gym.rebuild_face_index()
        assert "clients" in gym.vacuum_analyze()


def test_a_file_that_cannot_be_used_is_a_typed_error(tmp_path):
    with pytest.raises(exceptions.InvalidDatabaseUrlError):
        powergym.Gym.connect(f"sqlite://{tmp_path}/no/such/dir/gym.db")

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(exceptions.DatabaseError):
        powergym.Gym.connect(f"sqlite://{corrupt}")

    newer = tmp_path / "newer.db"
    opened(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute(
            "insert into powergym_schema_migrations (version, description, success, checksum, execution_time) "
            "values (999, 'from the future', 1, x'00', 0)"
        )
    with pytest.raises(exceptions.SchemaOutOfDateError):
        powergym.Gym.connect(f"sqlite://{newer}")

    if os.geteuid() != 0:  # root reads and writes any file, whatever its mode
        locked = tmp_path / "locked.db"
        opened(locked).close()
        locked.chmod(0o444)
        with pytest.raises(exceptions.ConnectionFailedError):
            g = powergym.Gym.connect(f"sqlite://{locked}")
            g.bootstrap_admin("admin", "admin-password")

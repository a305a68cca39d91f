"""Bulk enrolment from one 2-D numpy array, blocking and async, on each store; and the
default face cache's budget option."""

import asyncio
import datetime

import numpy as np
import pytest

import powergym
from powergym.exceptions import ValidationError

rng = np.random.default_rng(7)


def faces(n: int) -> np.ndarray:
    v = rng.standard_normal((n, 512))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def member(gym, actor, number, consent=True):
    c = gym.register_client(
        actor, document_type="CC", document_number=number, first_name="Ana",
        last_name="Gómez", phone="3001234567", birth_date=datetime.date(1990, 1, 1),
        gender="female",
    )
    if consent:
        gym.record_biometric_consent(actor, c.id, purpose="face check-in")
    return c.id


def test_enroll_faces_from_one_array(gym, admin):
    ids = [member(gym, admin, f"8000{i:03}") for i in range(20)]
    unconsented = member(gym, admin, "8100000", consent=False)
    rows = faces(21)
    seen = []
    result = gym.enroll_faces(
        admin, ids + [unconsented], rows, progress=lambda done, total: seen.append((done, total))
    )
    assert result.enrolled == 20
    assert result.outcomes == [None] * 20 + ["no_consent"]
    assert seen[-1] == (21, 21)
    for i, client in enumerate(ids):
        assert gym.identify_face(admin, rows[i]).client_id == client
    assert gym.face_template(admin, unconsented) is None

    # A NaN row is refused for that member alone.
    again = rows[:2].copy()
    again[1, 5] = np.nan
    result = gym.enroll_faces(admin, ids[:2], again)
    assert result.outcomes == [None, "invalid_embedding"]


def test_wrong_shapes_and_dtypes_are_validation_errors(gym, admin):
    ids = [member(gym, admin, f"9000{i:03}") for i in range(2)]
    for bad in (
        faces(3),  # one row too many
        faces(2)[:, :511],  # not 512 wide
        faces(2).reshape(-1),  # not 2-D
        np.zeros((2, 512), dtype=np.complex64),  # not real
        b"\0" * 4096,  # not an array
    ):
        with pytest.raises(ValidationError) as err:
            gym.enroll_faces(admin, ids, bad)
        assert err.value.field == "embeddings"
    assert all(gym.face_template(admin, c) is None for c in ids)


def test_async_enroll_faces(gym_url):
    async def run():
        async with await powergym.AsyncGym.connect(gym_url, max_connections=5) as g:
            await g.migrate()
            await g.bootstrap_admin("admin", "admin-password")
            admin = await g.authenticate("admin", "admin-password")
            c = await g.register_client(
                admin, document_type="CC", document_number="123456", first_name="Ana",
                last_name="Gómez", phone="3001234567", birth_date=datetime.date(1990, 1, 1),
                gender="female",
            )
            await g.record_biometric_consent(admin, c.id, purpose="face check-in")
            rows = faces(1)
            result = await g.enroll_faces(admin, [c.id], rows)
            assert result.enrolled == 1
            assert (await g.identify_face(admin, rows[0])).client_id == c.id

    asyncio.run(run())


def test_face_cache_budget(db_url):
    with powergym.Gym.connect(db_url, max_connections=5) as g:
        g.migrate()
        g.bootstrap_admin("admin", "admin-password")
        admin = g.authenticate("admin", "admin-password")
        c = member(g, admin, "1234567")
        rows = faces(1)
        g.enroll_faces(admin, [c], rows)
        assert g.identify_face(admin, rows[0]).client_id == c
        assert g.face_cache_size() == 1
    with powergym.Gym.connect(db_url, max_connections=5, face_cache_budget_bytes=0) as g:
        assert g.identify_face(admin, rows[0]).client_id == c
        assert g.face_cache_size() is None
    with pytest.raises(ValidationError):
        powergym.Gym.connect(db_url, face_cache_budget_bytes=-1)

"""Face check-in through the binding: consent, enrolment from a numpy array or raw bytes,
identification, check-in, thumbnails and erasure, on the real database."""

import datetime
from decimal import Decimal

import numpy as np
import pytest

import powergym
from powergym.exceptions import AlreadyExistsError, ConsentRequiredError, NotFoundError, ValidationError

rng = np.random.default_rng(2026)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def random_face() -> np.ndarray:
    return unit(rng.standard_normal(512)).astype(np.float32)


def photo_of(face: np.ndarray, distance: float) -> np.ndarray:
    """Another photo of the same face, at exactly this cosine distance."""
    noise = rng.standard_normal(512)
    noise -= noise.dot(face) * face
    noise = unit(noise)
    cos = 1.0 - distance
    return (cos * face + np.sqrt(1 - cos * cos) * noise).astype(np.float32)


@pytest.fixture
def key():
    return powergym.ThumbnailKey.generate()


@pytest.fixture
def gym(db_url, key):
    with powergym.Gym.connect(db_url, max_connections=10, thumbnail_key=key) as g:
        g.migrate()
        yield g


@pytest.fixture
def desk(gym, admin):
    gym.create_staff(admin, username="desk", password="desk-password", role="employee")
    return gym.authenticate("desk", "desk-password")


def member(gym, actor, number, document_type="CC", birth=datetime.date(1990, 1, 1)):
    return gym.register_client(
        actor, document_type=document_type, document_number=number, first_name="Ana",
        last_name="Gómez", phone="3001234567", birth_date=birth, gender="female",
    )


def test_enrol_identify_check_in_and_erase(gym, admin, desk):
    ana = member(gym, desk, "10203040")
    face = random_face()
    with pytest.raises(ConsentRequiredError) as info:
        gym.enroll_face(desk, ana.id, face)
    assert info.value.guardian is False

    consent = gym.record_biometric_consent(desk, ana.id, purpose="face check-in")
    assert consent.is_active and consent.recorded_by == "desk"
    jpeg = bytes(range(256)) * 8
    template = gym.enroll_face(desk, ana.id, face, thumbnail=jpeg)
    assert template.client_id == ana.id and template.has_thumbnail
    assert gym.face_thumbnail(desk, ana.id) == jpeg
    assert gym.face_template(desk, ana.id) == template

    # The same embedding as raw little-endian bytes, or float64, is the same face.
    strided = np.repeat(photo_of(face, 0.3), 2)[::2]
    for probe in (photo_of(face, 0.3), photo_of(face, 0.3).astype("<f4").tobytes(), photo_of(face, 0.3).astype(np.float64),
                  photo_of(face, 0.3).astype(">f4"), strided):
        m = gym.identify_face(desk, probe)
        assert (m.outcome, m.client_id) == ("match", ana.id)
        assert m.distance == pytest.approx(0.3, abs=1e-3)
        assert m.similarity == pytest.approx(0.7, abs=1e-3)
    assert gym.verify_face(desk, ana.id, photo_of(face, 0.45)).outcome == "no_match"
    assert gym.identify_face(desk, random_face()).outcome == "no_match"

    plan = gym.create_plan(admin, name="Mensual", price=Decimal("50000"), duration_unit="month", duration_count=1)
    sub = gym.create_subscription(desk, client_id=ana.id, plan_id=plan.id)
    gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("50000"), method="cash")
    granted = gym.check_in_by_face(desk, photo_of(face, 0.25))
    assert (granted.outcome, granted.granted, granted.client_id) == ("granted", True, ana.id)
    assert isinstance(granted.business_date, datetime.date)
    again = gym.check_in_by_face(desk, photo_of(face, 0.25))
    assert (again.outcome, again.reason) == ("denied", "already_checked_in")
    stranger = gym.check_in_by_face(desk, random_face())
    assert (stranger.outcome, stranger.client_id) == ("no_match", None)

    # Withdrawal erases the template; the document still works.
    withdrawn = gym.withdraw_biometric_consent(desk, ana.id)
    assert not withdrawn.is_active and withdrawn.withdrawn_by == "desk"
    assert gym.face_template(desk, ana.id) is None
    with pytest.raises(NotFoundError):
        gym.verify_face(desk, ana.id, face)
    assert gym.check_in_by_document(desk, "CC", "10203040").reason == "already_checked_in"
    assert [c.is_active for c in gym.biometric_consents(desk, ana.id)] == [False]


def test_minors_duplicates_and_bad_embeddings(gym, desk):
    teen = member(gym, desk, "1012345678", document_type="TI", birth=datetime.date(2012, 5, 5))
    with pytest.raises(ConsentRequiredError) as info:
        gym.record_biometric_consent(desk, teen.id, purpose="face check-in")
    assert info.value.guardian is True
    with pytest.raises(ValidationError):
        gym.record_biometric_consent(desk, teen.id, purpose="face check-in", guardian_name="Marta Gómez")
    consent = gym.record_biometric_consent(
        desk, teen.id, purpose="face check-in", guardian_name="Marta Gómez",
        guardian_document_type="CC", guardian_document_number="52123456",
    )
    assert consent.has_guardian and "Marta" not in repr(consent)
    face = random_face()
    gym.enroll_face(desk, teen.id, face)

    ana = member(gym, desk, "10203040")
    gym.record_biometric_consent(desk, ana.id, purpose="face check-in")
    with pytest.raises(AlreadyExistsError) as dup:
        gym.enroll_face(desk, ana.id, photo_of(face, 0.1))
    assert "Gómez" not in str(dup.value) and "1012345678" not in str(dup.value)

    for bad, reason in [
        (np.zeros(512, dtype=np.float32), "zero"),
        (np.full(512, np.nan, dtype=np.float32), "NaN"),
        (random_face()[:128], "512"),
        (b"\x00" * 100, "2048"),
    ]:
        with pytest.raises(ValidationError) as info:
            gym.enroll_face(desk, ana.id, bad)
        assert info.value.field == "embedding" and reason in str(info.value)
    with pytest.raises(TypeError):
        gym.enroll_face(desk, ana.id, [0.1] * 512)
    with pytest.raises(TypeError):
        gym.enroll_face(desk, ana.id, random_face().astype(np.complex64))
    with pytest.raises(ValidationError):
        gym.enroll_face(desk, ana.id, random_face().reshape(2, 256))
    assert gym.face_template(desk, ana.id) is None


def test_face_options_are_checked(db_url):
    with pytest.raises(ValidationError):
        powergym.Gym.connect(db_url, max_face_distance=0.0)
    with pytest.raises(ValidationError):
        powergym.Gym.connect(db_url, face_search="fuzzy")
    with pytest.raises(ValidationError):
        powergym.Gym.connect(db_url, ef_search=0)


def test_face_cache(gym, desk):
    assert gym.enable_face_cache(desk) == 0
    ana = member(gym, desk, "10203040")
    gym.record_biometric_consent(desk, ana.id, purpose="face check-in")
    face = random_face()
    gym.enroll_face(desk, ana.id, face)
    assert gym.enable_face_cache(desk, "int8") == 1
    assert gym.identify_face(desk, photo_of(face, 0.3)).client_id == ana.id
    bea = member(gym, desk, "20304050")
    gym.record_biometric_consent(desk, bea.id, purpose="face check-in")
    other = random_face()
    gym.enroll_face(desk, bea.id, other)
    assert gym.identify_face(desk, photo_of(other, 0.3)).client_id == bea.id
    gym.disable_face_cache()
    assert gym.identify_face(desk, photo_of(other, 0.3)).client_id == bea.id
    with pytest.raises(ValidationError):
        gym.enable_face_cache(desk, "int4")

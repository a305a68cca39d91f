"""The client slice through the Python binding: records round-trip as native types."""

import datetime
import uuid

import pytest

import powergym
from powergym.exceptions import AlreadyExistsError, NotFoundError, ValidationError


def register(gym, actor, number="1020304050", **overrides):
    fields = dict(
        document_type=powergym.DocumentType.CC,
        document_number=number,
        first_name="Ana",
        middle_name="María",
        last_name="Gómez",
        phone="300 123 4567",
        birth_date=datetime.date(1994, 5, 17),
        gender=powergym.Gender.FEMALE,
        email="ana@example.com",
    )
    fields.update(overrides)
    return gym.register_client(actor, **fields)


def test_register_and_read_back_as_native_types(gym, admin):
    client = register(gym, admin, "1.020.304.050")
    assert isinstance(client.id, uuid.UUID)
    assert client.document_type == "CC" == powergym.DocumentType.CC
    assert client.document_number == "1020304050"
    assert client.full_name == "Ana María Gómez"
    assert client.phone == "3001234567"
    assert client.birth_date == datetime.date(1994, 5, 17)
    assert client.gender == "female"
    assert client.second_last_name is None
    assert client.is_active is True
    assert isinstance(client.created_at, datetime.datetime)
    assert client.created_at.tzinfo is not None

    assert gym.get_client(admin, client.id) == client
    assert gym.get_client_by_document(admin, "CC", "1020304050") == client


def test_repr_holds_no_personal_data(gym, admin):
    client = register(gym, admin)
    text = repr(client)
    assert str(client.id) in text
    for secret in ("Ana", "Gómez", "1020304050", "3001234567"):
        assert secret not in text


def test_records_are_frozen(gym, admin):
    client = register(gym, admin)
    with pytest.raises(AttributeError):
        client.first_name = "Eve"


def test_paging(gym, admin):
    ids = [register(gym, admin, f"5550{i}").id for i in range(5)]
    first = gym.list_clients(admin, limit=2)
    second = gym.list_clients(admin, limit=2, offset=2)
    third = gym.list_clients(admin, limit=2, offset=4)
    assert first.total == 5 and len(first) == 2
    got = [c.id for page in (first, second, third) for c in page.items]
    assert got == list(reversed(ids))
    assert gym.list_clients(admin, active=False).total == 0
    with pytest.raises(ValidationError) as info:
        gym.list_clients(admin, limit=501)
    assert info.value.field == "limit"


def test_errors_are_typed_and_name_the_field(gym, admin):
    with pytest.raises(ValidationError) as info:
        register(gym, admin, "12AB")
    assert info.value.field == "document_number"
    assert info.value.kind == "validation"
    assert "12AB" not in str(info.value)

    with pytest.raises(ValidationError) as info:
        register(gym, admin, document_type="XX")
    assert info.value.field == "document_type"

    register(gym, admin, "777888999")
    with pytest.raises(AlreadyExistsError) as info:
        register(gym, admin, "777888999")
    assert info.value.field == "document_number"
    assert "777888999" not in str(info.value)
    assert gym.list_clients(admin).total == 1

    with pytest.raises(NotFoundError):
        gym.get_client(admin, uuid.uuid4())
    with pytest.raises(NotFoundError):
        gym.get_client_by_document(admin, "TI", "777888999")

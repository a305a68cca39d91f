"""Bad input through the binding: each failure the hardening review reproduced is refused
with ValidationError naming the field, before anything is stored. The length and
character rules are core's (tested there); here, that they reach Python typed, and that
the binding's conversions refuse what Python would otherwise coerce (True as 1, NaN,
huge ints, lists as bytes)."""

import datetime
import sys
import time
import unicodedata
import uuid
from decimal import Decimal

import pytest

import powergym
from powergym.exceptions import ValidationError


def refused(field, call, *args, **kwargs):
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    assert info.value.field == field, info.value
    return info.value


def registration(**changes):
    values = dict(
        document_type="CC", document_number="1020304050", first_name="Ana", last_name="Gómez",
        phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female",
    )
    values.update(changes)
    return values


def plan_args(**changes):
    values = dict(name="Mensual", price=Decimal("50000"), duration_unit="month", duration_count=1)
    values.update(changes)
    return values


def test_a_nul_byte_is_a_validation_error_not_a_database_error(gym, admin):
    refused("first_name", gym.register_client, admin, **registration(first_name="An\x00a"))
    refused("address", gym.register_client, admin, **registration(address="Calle 10\x00"))
    refused("description", gym.create_plan, admin, **plan_args(description="a\x00b"))
    refused("name", gym.create_product, admin, name="Agua\x00", capacity_value=Decimal("600"),
            unit_type="ml", price=Decimal("2500"))
    assert gym.list_clients(admin).total == 0


def test_invisible_and_bidirectional_characters_are_refused(gym, admin):
    for text in ["Calle 10\u202e03-02", "Calle\u200b10", "Calle\u2066 10", "\ufeffCalle", "Calle\x07"]:
        refused("address", gym.register_client, admin, **registration(address=text))
        refused("name", gym.create_plan, admin, **plan_args(name=text))
    assert gym.list_clients(admin).total == 0
    client = gym.register_client(admin, **registration(address="  Calle 10 # 20-30 "))
    assert client.address == "Calle 10 # 20-30"
    refused("purpose", gym.record_biometric_consent, admin, client.id, purpose="face\u202echeck-in")


def test_every_control_and_format_character_of_this_python_is_refused(gym, admin):
    # Python's own Unicode database decides what Cc and Cf are; core's table must agree.
    # Plan names are checked before any database work, so this is quick.
    chars = [chr(c) for c in range(sys.maxunicode + 1)
             if unicodedata.category(chr(c)) in ("Cc", "Cf")]
    assert len(chars) > 200
    for c in chars:
        refused("name", gym.create_plan, admin, **plan_args(name=f"Plan{c}mensual"))


def test_a_ten_megabyte_description_is_refused_at_once(gym, admin):
    huge = "x" * (10 * 1024 * 1024)
    started = time.monotonic()
    refused("description", gym.create_plan, admin, **plan_args(description=huge))
    assert time.monotonic() - started < 2
    longest = "d" * 2000
    assert gym.create_plan(admin, **plan_args(description=longest)).description == longest


def test_a_ten_megabyte_search_is_refused_at_once(gym, admin):
    started = time.monotonic()
    refused("text", gym.search_clients, admin, "ana " * 2_500_000)
    assert time.monotonic() - started < 2
    refused("text", gym.search_clients, admin, "an\x00a")
    refused("notes", gym.record_payment, admin, subscription_id=uuid.uuid4(), amount=Decimal("1"),
            method="cash", notes="cash\x00")


def test_a_start_on_9999_12_31_is_refused(gym, admin):
    plan = gym.create_plan(admin, **plan_args())
    client = gym.register_client(admin, **registration())
    refused("start_date", gym.create_subscription, admin, client_id=client.id, plan_id=plan.id,
            start_date=datetime.date(9999, 12, 31))
    last = gym.create_subscription(admin, client_id=client.id, plan_id=plan.id,
                                   start_date=datetime.date(2999, 12, 31))
    assert last.end_date == datetime.date(3000, 1, 30)


def test_run_daily_jobs_refuses_a_future_day(gym, admin):
    today = gym.today()
    refused("today", gym.run_daily_jobs, admin, today + datetime.timedelta(days=1))
    refused("today", gym.run_daily_jobs, admin, datetime.date(9999, 12, 31))
    assert gym.run_daily_jobs(admin, today - datetime.timedelta(days=3)).expired == 0


def test_a_bool_is_not_a_number(gym, admin):
    for value in [True, False]:
        refused_as_numbers(gym, admin, value)


def refused_as_numbers(gym, admin, value):
    nobody = uuid.uuid4()
    refused("amount", gym.record_payment, admin, subscription_id=nobody, amount=value, method="cash")
    refused("price", gym.create_plan, admin, **plan_args(price=value))
    refused("duration_count", gym.create_plan, admin, **plan_args(duration_count=value))
    refused("discount_percentage", gym.create_subscription, admin, client_id=nobody, plan_id=nobody,
            discount_percentage=value)
    refused("quantity", gym.sell_product, admin, nobody, value)
    refused("quantity", gym.add_stock, admin, nobody, value)
    refused("min_stock", gym.create_product, admin, name="Agua", capacity_value=Decimal("600"),
            unit_type="ml", price=Decimal("2500"), min_stock=value)
    refused("limit", gym.list_clients, admin, limit=value)
    refused("offset", gym.search_clients, admin, "ana", offset=value)
    refused("version", gym.migrate_to, value)


def test_true_is_not_an_amount_of_one(gym, admin):
    plan = gym.create_plan(admin, **plan_args(price=Decimal("1")))
    client = gym.register_client(admin, **registration())
    sub = gym.create_subscription(admin, client_id=client.id, plan_id=plan.id)
    error = refused("amount", gym.record_payment, admin, subscription_id=sub.id, amount=True, method="cash")
    assert "bool" in str(error)
    receipt = gym.record_payment(admin, subscription_id=sub.id, amount=1, method="cash")
    assert receipt.amount == Decimal("1") and receipt.balance == 0


def test_decimals_must_be_finite_exact_numbers_in_range(gym, admin):
    for value in [
        Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
        Decimal("1e100"), 10**40, -(10**40), 0.1, float("nan"), "12.50", [1],
    ]:
        refused("price", gym.create_plan, admin, **plan_args(price=value))
        refused("amount", gym.record_payment, admin, subscription_id=uuid.uuid4(), amount=value,
                method="cash")
    # Exact values in range pass the conversion; the rules (two places, at most
    # 9 999 999 999.99) are core's.
    assert gym.create_plan(admin, **plan_args(price=Decimal("1E+2"))).price == 100
    refused("price", gym.create_plan, admin, **plan_args(price=Decimal("0.001")))


def test_ints_past_the_rust_type_are_validation_errors_not_overflow(db_url, gym, admin):
    for value in [2**32, 2**64, 2**100, -1]:
        refused("max_connections", powergym.Gym.connect, db_url, max_connections=value)
        refused("limit", gym.list_clients, admin, limit=value)
        refused("ef_search", powergym.Gym.connect, db_url, ef_search=value)
    refused("offset", gym.list_clients, admin, offset=2**64)
    refused("version", gym.migrate_to, 2**63)
    refused("min_connections", powergym.Gym.connect, db_url, min_connections=2**40)
    refused("acquire_timeout", powergym.Gym.connect, db_url, acquire_timeout=True)
    refused("max_face_distance", powergym.Gym.connect, db_url, max_face_distance=False)
    refused("idle_timeout", powergym.Gym.connect, db_url, idle_timeout="10")
    refused("statement_timeout", powergym.Gym.connect, db_url, statement_timeout=True)
    refused("call_timeout", powergym.Gym.connect, db_url, call_timeout=False)


def test_thumbnails_are_bytes_only(gym, admin):
    client = gym.register_client(admin, **registration())
    embedding = bytes(2048)
    for value in [[255, 216, 255], (1, 2), "jpeg", 42]:
        refused("thumbnail", gym.enroll_face, admin, client.id, embedding, thumbnail=value)
    key = powergym.ThumbnailKey.generate()
    row, member = uuid.uuid4(), uuid.uuid4()
    refused("jpeg", key.seal, [255, 216, 255], row, member)
    jpeg = b"\xff\xd8\xff\xe0 small jpeg"
    for buffer in [jpeg, bytearray(jpeg), memoryview(jpeg)]:
        sealed = key.seal(buffer, row, member)
        assert key.open(memoryview(sealed), row, member) == jpeg
        assert key.open(bytearray(sealed), row, member) == jpeg
    refused("sealed", key.open, list(sealed), row, member)


def test_rule_functions_take_no_bool_for_a_number():
    import decimal as _d

    for call, field in [
        (lambda: powergym.price_snapshot(True), "list_price"),
        (lambda: powergym.price_snapshot(_d.Decimal("100"), discount=True), "discount"),
        (lambda: powergym.sale_total(True, _d.Decimal("2500")), "size"),
        (lambda: powergym.stock_status(_d.Decimal("3"), True, None), "min_stock"),
        (lambda: powergym.RewardConfig(discount_percentage=True), "discount_percentage"),
    ]:
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.field == field
    assert powergym.sale_total(_d.Decimal("2"), _d.Decimal("2500")) == _d.Decimal("5000.00")

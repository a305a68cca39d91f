"""Retry keys for sales and check-ins through the binding: a retried call returns the
first result, and the key reused for something else raises ConflictError. The rules
(nothing written on a retry, concurrent calls) are tested in Rust."""

import datetime
from decimal import Decimal

import pytest

from powergym.exceptions import ConflictError


def test_a_retried_sale_or_check_in_returns_the_first_result(gym, admin):
    water = gym.create_product(admin, name="Agua", capacity_value=Decimal("600"), unit_type="ml", price=Decimal("2500"))
    gym.add_stock(admin, water.id, Decimal("10"))
    sale = gym.sell_product(admin, water.id, Decimal("2"), idempotency_key="sale-1")
    again = gym.sell_product(admin, water.id, Decimal("2"), idempotency_key="sale-1")
    assert again == sale and again.available_quantity == Decimal("8")
    with pytest.raises(ConflictError):
        gym.sell_product(admin, water.id, Decimal("3"), idempotency_key="sale-1")

    plan = gym.create_plan(admin, name="Libre", slug="free", price=Decimal("0"), duration_unit="month", duration_count=1)
    ana = gym.register_client(
        admin, document_type="CC", document_number="10203040", first_name="Ana", last_name="Gómez",
        phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female",
    )
    gym.create_subscription(admin, client_id=ana.id, plan_id=plan.id)
    first = gym.check_in(admin, ana.id, idempotency_key="door-1")
    assert first.granted and first.attendance_id is not None
    assert gym.check_in(admin, ana.id, idempotency_key="door-1") == first
    refused = gym.check_in_by_document(admin, "CC", "10203040", idempotency_key="door-2")
    assert refused.reason == "already_checked_in"
    assert gym.check_in_by_document(admin, "CC", "10.203.040", idempotency_key="door-2") == refused
    with pytest.raises(ConflictError):
        gym.check_in_by_document(admin, "CC", "10203040", idempotency_key="door-1")

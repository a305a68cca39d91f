"""A representative use case of each area through the binding: staff, plans,
subscriptions, payments, check-in, daily jobs and inventory. The rules themselves are
tested in Rust and by the conformance vectors."""

import datetime
from decimal import Decimal

import pytest

from powergym.exceptions import (
    InsufficientStockError,
    PaymentExceedsBalanceError,
    PermissionDeniedError,
)


@pytest.fixture
def desk(gym, admin):
    gym.create_staff(admin, username="desk", password="desk-password", role="employee", full_name="Desk")
    return gym.authenticate("desk", "desk-password")


def member(gym, actor, number):
    return gym.register_client(
        actor, document_type="CC", document_number=number, first_name="Ana", last_name="Gómez",
        phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female",
    )


def test_staff_sign_in_and_permissions(gym, admin, desk):
    assert desk.username == "desk"
    with pytest.raises(PermissionDeniedError) as info:
        gym.authenticate("desk", "wrong-password")
    assert info.value.action == "sign_in"
    with pytest.raises(PermissionDeniedError):
        gym.create_plan(desk, name="x", price=Decimal("1"), duration_unit="day", duration_count=1)


def test_sell_pay_and_check_in(gym, admin, desk):
    plan = gym.create_plan(admin, name="Mensual", slug="monthly", price=Decimal("50000"), duration_unit="month", duration_count=1)
    assert plan.price == Decimal("50000") and plan.duration_unit == "month"
    ana = member(gym, desk, "10203040")
    sub = gym.create_subscription(desk, client_id=ana.id, plan_id=plan.id, discount_percentage=Decimal("10"))
    assert (sub.status, sub.final_price) == ("pending_payment", Decimal("45000"))

    denied = gym.check_in_by_document(desk, "CC", "10203040")
    assert (denied.granted, denied.reason) == (False, "unpaid")

    with pytest.raises(PaymentExceedsBalanceError) as info:
        gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("45000.01"), method="cash")
    assert info.value.balance == Decimal("45000")
    receipt = gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("45000"), method="qr", idempotency_key="k-1")
    assert (receipt.status, receipt.balance, receipt.received_by) == ("active", Decimal("0"), "desk")
    again = gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("45000"), method="qr", idempotency_key="k-1")
    assert again == receipt

    granted = gym.check_in_by_document(desk, "CC", "10.203.040")
    assert granted.granted and isinstance(granted.business_date, datetime.date)
    assert gym.check_in_by_document(desk, "CC", "10203040").reason == "already_checked_in"

    # The jobs run for the gym's business day or a past one (a later day is refused; see
    # test_input_bounds); the paid period that started today stays active.
    counts = gym.run_daily_jobs(admin, gym.today())
    assert set(counts.to_dict()) == {"activated", "awaiting_payment", "expired", "expired_unpaid", "expired_rewards"}
    assert counts.expired == 0


def test_inventory(gym, admin, desk):
    water = gym.create_product(admin, name="Agua", capacity_value=Decimal("600"), unit_type="ml", price=Decimal("2500"))
    assert water.stock_status == "STOCK_OUT"
    gym.add_stock(admin, water.id, Decimal("3"))
    sale = gym.sell_product(desk, water.id, Decimal("2"))
    assert (sale.total_amount, sale.available_quantity, sale.stock_status) == (Decimal("5000"), Decimal("1"), "LOW_STOCK")
    with pytest.raises(InsufficientStockError) as info:
        gym.sell_product(desk, water.id, Decimal("2"))
    assert info.value.available == Decimal("1")


def test_search_ignores_accents(gym, admin):
    member(gym, admin, "99887766")
    assert gym.search_clients(admin, "gomez").total == 1


def test_rewards_and_statistics(gym, admin, desk):
    plan = gym.create_plan(admin, name="Mensual", price=Decimal("50000"), duration_unit="month", duration_count=1)
    ana = member(gym, desk, "55667788")
    sub = gym.create_subscription(desk, client_id=ana.id, plan_id=plan.id)
    gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("50000"), method="cash")
    assert gym.check_in_by_document(desk, "CC", "55667788").granted
    evaluation = gym.evaluate_reward(desk, sub.id)
    assert (evaluation.attendance_count, evaluation.reward) == (1, None)  # one day of twenty
    stats = gym.statistics(admin, sub.start_date, sub.start_date)
    assert stats.financial.period_revenue == Decimal("50000")
    assert stats.attendance.total_attendances == 1
    assert stats.clients.with_active_subscription == 1
    with pytest.raises(PermissionDeniedError):
        gym.statistics(desk, sub.start_date, sub.start_date)

"""A whole day at the front desk, written once and run through both `Gym` and
`AsyncGym` (test_desk_day.py): every area of the library, through its public API."""

import datetime
import inspect
import json
import pickle
import subprocess
from decimal import Decimal
from typing import Any

import numpy as np

import powergym
from powergym.exceptions import InvalidTransitionError, PermissionDeniedError

# Personal data used by the day; test_logging.py checks none of it reaches a log.
NAMES = ["Valentina", "Ospina", "Mateo", "Cárdenas", "Rosa", "Ospina-Guardiana"]
DOCUMENTS = ["1030405060", "1122334455", "52000111"]


async def run(value: Any) -> Any:
    """The value of a call: awaited for AsyncGym, as it is for Gym."""
    return await value if inspect.isawaitable(value) else value


def face(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(512).astype(np.float32)
    return v / np.linalg.norm(v)


def json_ready(record: Any) -> None:
    json.dumps(record.to_dict())
    assert pickle.loads(pickle.dumps(record)) == record


async def desk_day(gym: Any, url: str, execute: Any) -> None:
    today = gym.today()
    await run(gym.bootstrap_admin("admin", "admin-password-1"))
    admin = await run(gym.authenticate("admin", "admin-password-1"))

    # Staff: hire, promote, demote, disable, re-enable, reset, remove.
    await run(gym.create_staff(admin, username="desk", password="desk-password-1", role="employee"))
    temp = await run(gym.create_staff(admin, username="temp", password="temp-password-1", role="employee"))
    assert temp.role == powergym.Role.EMPLOYEE
    assert (await run(gym.set_staff_role(admin, "temp", "admin"))).role == "admin"
    assert (await run(gym.set_staff_role(admin, "temp", "employee"))).role == "employee"
    assert (await run(gym.set_staff_disabled(admin, "temp", True))).disabled
    assert not (await run(gym.set_staff_disabled(admin, "temp", False))).disabled
    await run(gym.reset_password(admin, "temp", "temp-password-2"))
    await run(gym.authenticate("temp", "temp-password-2"))
    await run(gym.remove_staff(admin, "temp"))
    assert [s.username for s in await run(gym.list_staff(admin))] == ["admin", "desk"]
    desk = await run(gym.authenticate("desk", "desk-password-1"))
    await run(gym.change_own_password(desk, "desk-password-1", "desk-password-2"))
    desk = await run(gym.authenticate("desk", "desk-password-2"))
    try:
        await run(gym.list_staff(desk))
        raise AssertionError("an employee listed staff")
    except PermissionDeniedError:
        pass

    # Plans.
    monthly = await run(gym.create_plan(
        admin, name="Mensual", slug="monthly", price=Decimal("50000"), duration_unit="month",
        duration_count=1, description="Todo el mes", currency="COP"))
    assert monthly.price == Decimal("50000.00") and str(monthly.price) == "50000.00"
    daily = await run(gym.create_plan(admin, name="Día", price=Decimal("8000"), duration_unit="day", duration_count=1))
    assert (await run(gym.get_plan(desk, str(monthly.id)))) == monthly
    assert (await run(gym.get_plan_by_slug(desk, "monthly"))).id == monthly.id
    monthly = await run(gym.update_plan(admin, monthly.id, price=Decimal("55000.5")))
    assert monthly.price == Decimal("55000.50")
    assert (await run(gym.deactivate_plan(admin, daily.id))).is_active is False
    plans = await run(gym.list_plans(desk, active_only=True))
    assert [p.id for p in plans.items] == [monthly.id] and plans.total == 1
    json_ready(monthly)

    # Members.
    vale = await run(gym.register_client(
        desk, document_type="CC", document_number=DOCUMENTS[0], first_name=NAMES[0],
        last_name=NAMES[1], phone="3001112233", birth_date=datetime.date(1995, 3, 4), gender="female"))
    mateo = await run(gym.register_client(
        desk, document_type=powergym.DocumentType.TI, document_number=DOCUMENTS[1],
        first_name=NAMES[2], last_name=NAMES[3], phone="3004445566",
        birth_date=datetime.date(today.year - 15, 1, 1), gender="male"))
    assert vale.document_type == powergym.DocumentType.CC and mateo.gender == powergym.Gender.MALE
    vale = await run(gym.update_client(desk, vale.id, email="vale@example.invalid", address="Cra 7"))
    assert vale.email == "vale@example.invalid"
    assert (await run(gym.get_client_by_document(desk, "CC", DOCUMENTS[0]))).id == vale.id
    assert (await run(gym.search_clients(desk, NAMES[3].lower().replace("á", "a")))).total == 1
    assert not (await run(gym.set_client_active(desk, mateo.id, False))).is_active
    assert (await run(gym.list_clients(desk, active=False))).items[0].id == mateo.id
    await run(gym.set_client_active(desk, mateo.id, True))
    json_ready(vale)

    # Subscriptions: sold, paid in two parts, renewed, cancelled.
    start = today - datetime.timedelta(days=25)
    sub = await run(gym.create_subscription(
        desk, client_id=vale.id, plan_id=monthly.id, start_date=start,
        discount_percentage=Decimal("10")))
    assert sub.status == powergym.SubscriptionStatus.PENDING_PAYMENT
    assert sub.final_price == Decimal("49500.45")
    first = await run(gym.record_payment(desk, subscription_id=sub.id, amount=Decimal("20000"), method="cash"))
    assert first.balance == Decimal("29500.45")
    paid = await run(gym.record_payment(
        desk, subscription_id=str(sub.id), amount=Decimal("29500.45"), method=powergym.PaymentMethod.QR,
        notes="segunda cuota", idempotency_key="vale-2"))
    assert paid.status == "active" and paid.balance == Decimal("0.00")
    history = await run(gym.subscription_payments(desk, sub.id))
    assert [p.amount for p in history.items] == [Decimal("29500.45"), Decimal("20000.00")]
    stats = await run(gym.client_payment_stats(desk, vale.id))
    assert (stats.count, stats.total_paid) == (2, Decimal("49500.45"))
    assert (await run(gym.subscription_payment_stats(desk, sub.id))).remaining_debt == Decimal("0.00")
    assert (await run(gym.client_payments(desk, vale.id))).total == 2
    assert (await run(gym.current_subscription(desk, vale.id))).id == sub.id
    assert (await run(gym.get_subscription(desk, sub.id))).status == "active"
    json_ready(history.items[0])

    mateo_sub = await run(gym.create_subscription(desk, client_id=mateo.id, plan_id=monthly.id))
    cancelled = await run(gym.cancel_subscription(admin, mateo_sub.id, reason="cambió de ciudad"))
    assert cancelled.status == powergym.SubscriptionStatus.CANCELED
    try:
        await run(gym.cancel_subscription(admin, mateo_sub.id))
        raise AssertionError("cancelled twice")
    except InvalidTransitionError:
        pass
    assert (await run(gym.list_subscriptions(desk, status="canceled"))).total == 1

    # Check-in by document: granted, then already in; refused for the cancelled member.
    door = await run(gym.check_in_by_document(desk, "CC", DOCUMENTS[0]))
    assert door.granted and door.business_date == today
    again = await run(gym.check_in_by_document(desk, "CC", DOCUMENTS[0]))
    assert again.reason == powergym.DenialReason.ALREADY_CHECKED_IN
    refused = await run(gym.check_in(desk, mateo.id))
    assert not refused.granted
    denials = await run(gym.denied_check_ins(admin, today, today))
    assert sum(d.count for d in denials) == 2
    assert (await run(gym.client_attendances(desk, vale.id))).total == 1
    assert (await run(gym.attendances(admin, start=today, end=today))).total == 1

    # Face check-in: consent (a minor's with a guardian), enrolment, identification.
    await run(gym.record_biometric_consent(desk, vale.id, purpose="entrada por rostro"))
    await run(gym.record_biometric_consent(
        desk, mateo.id, purpose="entrada por rostro", guardian_name=NAMES[4],
        guardian_document_type="CC", guardian_document_number=DOCUMENTS[2]))
    await run(gym.enroll_face(desk, vale.id, face(1)))
    await run(gym.enroll_face(desk, mateo.id, face(2)))
    found = await run(gym.identify_face(desk, face(1)))
    assert found.client_id == vale.id
    assert (await run(gym.verify_face(desk, mateo.id, face(2)))).client_id == mateo.id
    at_door = await run(gym.check_in_by_face(desk, face(2)))
    assert at_door.client_id == mateo.id and not at_door.granted  # cancelled
    assert (await run(gym.enable_face_cache(admin, "int8"))) == 2
    assert (await run(gym.check_in_by_face(desk, face(1)))).client_id == vale.id
    gym.disable_face_cache()
    assert (await run(gym.face_template(desk, vale.id))) is not None
    assert len(await run(gym.biometric_consents(desk, mateo.id))) == 1
    await run(gym.withdraw_biometric_consent(desk, mateo.id))
    assert (await run(gym.face_template(desk, mateo.id))) is None
    assert await run(gym.remove_face(desk, vale.id))

    # Rewards: twenty days of attendance in the period earn one.
    days = [start + datetime.timedelta(days=n) for n in range(20)]
    days = [d for d in days if d != today]
    execute(
        url,
        "insert into attendances (client_id, entry_time, business_date, subscription_id) "
        f"select '{vale.id}', d::timestamptz + interval '15 hours', d, '{sub.id}' "
        f"from unnest(array[{', '.join(repr(d.isoformat()) for d in days)}]::date[]) d",
        "".join(
            "insert into attendances (client_id, entry_time, business_date, subscription_id) "
            f"values ('{vale.id}', {int(datetime.datetime(d.year, d.month, d.day, 20, tzinfo=datetime.timezone.utc).timestamp()) * 1_000_000}, "
            f"'{d.isoformat()}', '{sub.id}');"
            for d in days
        ),
    )
    earned = await run(gym.evaluate_reward(desk, sub.id))
    # Twenty earlier days and today's check-in.
    assert earned.attendance_count == 21 and earned.reward is not None
    assert earned.reward.status == powergym.RewardStatus.PENDING
    assert [r.id for r in await run(gym.available_rewards(desk, vale.id))] == [earned.reward.id]
    renewal = await run(gym.renew_subscription(desk, sub.id))
    assert renewal.start_date == sub.end_date + datetime.timedelta(days=1)
    applied = await run(gym.apply_reward(desk, earned.reward.id, renewal.id))
    assert applied.status == powergym.RewardStatus.APPLIED
    json_ready(earned)

    # Inventory: products, stock in and out, reports.
    water = await run(gym.create_product(
        admin, name="Agua 600 ml", capacity_value=Decimal("600"), unit_type="ml",
        price=Decimal("2500"), min_stock=Decimal("5"), description="Sin gas", currency="COP",
        photo_url="https://example.invalid/agua.jpg"))
    assert water.description == "Sin gas" and water.photo_url == "https://example.invalid/agua.jpg"
    await run(gym.add_stock(admin, water.id, Decimal("10"), notes="proveedor"))
    sale = await run(gym.sell_product(desk, water.id, Decimal("7"), idempotency_key="sale-1"))
    assert sale.total_amount == Decimal("17500.00")
    low = await run(gym.stock_report(admin, "low_stock"))
    assert [p.id for p in low] == [water.id] and low[0].stock_status == powergym.StockStatus.LOW_STOCK
    water = await run(gym.update_product(admin, water.id, price=Decimal("2600"), max_stock=Decimal("50")))
    assert water.max_stock == Decimal("50")
    water = await run(gym.update_product(admin, water.id, clear_max_stock=True))
    assert water.max_stock is None
    assert (await run(gym.get_product(desk, water.id))).price == Decimal("2600.00")
    assert (await run(gym.list_products(desk, search="agua"))).total == 1
    assert (await run(gym.list_movements(admin, product_id=water.id))).total == 2
    by_staff = await run(gym.movements_by_staff(admin, today, today))
    assert {m.responsible for m in by_staff} == {"admin", "desk"}
    product_history = await run(gym.product_history(admin, water.id))
    assert len(product_history.recent) == 2
    assert not (await run(gym.set_product_active(admin, water.id, False))).is_active
    json_ready(product_history)

    # Reports and the daily jobs.
    dashboard = await run(gym.client_dashboard(desk, vale.id))
    assert dashboard.client.id == vale.id and dashboard.latest_subscription is not None
    statistics = await run(gym.statistics(admin, start, today))
    assert statistics.financial.period_revenue == Decimal("49500.45")
    assert all(isinstance(a, powergym.Alert) for a in statistics.alerts)
    assert powergym.Alert.LOW_STOCK not in statistics.alerts  # the water is inactive now
    activity = await run(gym.recent_activity(admin, limit=50))
    assert {a.kind for a in activity} >= {powergym.ActivityKind.CHECK_IN, powergym.ActivityKind.PAYMENT}
    jobs = await run(gym.run_daily_jobs(admin, today))
    # Nothing is due today: every subscription of the day is current, paid or in the
    # future (the Kotlin desk day and test_store move rows back to give the jobs work).
    assert jobs.to_dict() == dict.fromkeys(
        ["activated", "awaiting_payment", "expired", "expired_unpaid", "expired_rewards"], 0)
    json_ready(statistics)
    json_ready(jobs)

"""The desk API through an ASGI client, against the real database."""

import asyncio
import datetime

import httpx
import numpy as np
import pytest
import pytest_asyncio

import powergym
from app import create_app
from conftest import databases

pytestmark = pytest.mark.asyncio

DESK = {"X-Staff-User": "desk"}
ADMIN = {"X-Staff-User": "admin"}


@pytest_asyncio.fixture
async def api(db_url):
    # The schema, the staff and a plan, as an operator would have set them up.
    with powergym.Gym.connect(db_url) as gym:
        gym.migrate()
        gym.bootstrap_admin("admin", "admin-password")
        admin = gym.authenticate("admin", "admin-password")
        gym.create_staff(admin, username="desk", password="desk-password", role="employee")
        gym.create_plan(admin, name="Mensual", slug="monthly", price=50000, duration_unit="month", duration_count=1)
        gym.create_plan(admin, name="Día", price=8000, duration_unit="day", duration_count=1)
    app = create_app(db_url, max_connections=5)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desk") as client:
            yield client


def embedding(seed):
    v = np.random.default_rng(seed).standard_normal(512).astype("<f4")
    return (v / np.linalg.norm(v)).astype("<f4")


async def register(api, number, first_name="Laura"):
    response = await api.post("/clients", headers=DESK, json={
        "document_type": "CC", "document_number": number, "first_name": first_name,
        "last_name": "Zapata", "phone": "3001234567", "birth_date": "1992-07-01", "gender": "female",
    })
    assert response.status_code == 201, response.text
    return response.json()


async def test_register_sell_pay_and_check_in_by_document(api):
    plans = (await api.get("/plans", headers=DESK)).json()
    monthly = next(p for p in plans if p["slug"] == "monthly")
    assert monthly["price"] == "50000.00"
    laura = await register(api, "43210987")
    sub = (await api.post("/subscriptions", headers=DESK, json={"client_id": laura["id"], "plan_id": monthly["id"]})).json()
    assert sub["status"] == "pending_payment"

    refused = (await api.post("/check-ins/document", headers=DESK, json={"document_type": "CC", "document_number": "43210987"})).json()
    assert (refused["granted"], refused["reason"]) == (False, "unpaid")

    too_much = await api.post("/payments", headers=DESK, json={"subscription_id": sub["id"], "amount": "60000", "method": "cash"})
    assert too_much.status_code == 409 and too_much.json()["error"] == "PaymentExceedsBalanceError"
    paid = await api.post("/payments", headers=DESK, json={"subscription_id": sub["id"], "amount": "50000", "method": "qr", "idempotency_key": "k1"})
    assert paid.status_code == 201 and paid.json()["status"] == "active"
    history = (await api.get(f"/subscriptions/{sub['id']}/payments", headers=DESK)).json()
    assert [p["amount"] for p in history] == ["50000.00"]

    door = (await api.post("/check-ins/document", headers=DESK, json={"document_type": "CC", "document_number": "43.210.987"})).json()
    assert door["granted"] is True

    today = datetime.date.today().isoformat()
    forbidden = await api.get("/statistics", headers=DESK, params={"start": today, "end": today})
    assert forbidden.status_code == 403
    stats = (await api.get("/statistics", headers=ADMIN, params={"start": "2020-01-01", "end": today})).json()
    assert stats["financial"]["period_revenue"] == "50000.00"


async def test_errors_become_statuses(api):
    await register(api, "11112222")
    duplicate = await api.post("/clients", headers=DESK, json={
        "document_type": "CC", "document_number": "1111.2222", "first_name": "Otra",
        "last_name": "Persona", "phone": "3001234567", "birth_date": "1990-01-01", "gender": "female",
    })
    assert duplicate.status_code == 409
    assert "Otra" not in duplicate.text and "11112222" not in duplicate.text
    unknown = await api.post("/subscriptions", headers=DESK, json={"client_id": "00000000-0000-0000-0000-000000000000", "plan_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404
    bad = await api.post("/payments", headers=DESK, json={"subscription_id": "nope", "amount": "1", "method": "cash"})
    assert bad.status_code == 422
    stranger = await api.get("/plans", headers={"X-Staff-User": "nobody"})
    assert stranger.status_code in (403, 404)


async def test_check_in_by_face_from_an_uploaded_embedding(api, db_url):
    laura = await register(api, "55556666")
    with powergym.Gym.connect(db_url) as gym:
        admin = gym.acting_as("admin")
        plan = gym.get_plan_by_slug(admin, "monthly")
        sub = gym.create_subscription(admin, client_id=laura["id"], plan_id=plan.id)
        gym.record_payment(admin, subscription_id=sub.id, amount=plan.price, method="cash")
        gym.record_biometric_consent(admin, laura["id"], purpose="entrada por rostro")
        gym.enroll_face(admin, laura["id"], embedding(7))
    files = {"embedding": ("probe.bin", embedding(7).tobytes(), "application/octet-stream")}
    door = (await api.post("/check-ins/face", headers=DESK, files=files)).json()
    assert (door["outcome"], door["client_id"]) == ("granted", laura["id"])
    stranger = {"embedding": ("probe.bin", embedding(8).tobytes(), "application/octet-stream")}
    assert (await api.post("/check-ins/face", headers=DESK, files=stranger)).json()["outcome"] == "no_match"
    short = {"embedding": ("probe.bin", b"\0" * 100, "application/octet-stream")}
    assert (await api.post("/check-ins/face", headers=DESK, files=short)).status_code == 422


async def test_a_slow_call_does_not_hold_up_other_requests(api, db_url):
    laura = await register(api, "77778888")
    plans = (await api.get("/plans", headers=DESK)).json()
    sub = (await api.post("/subscriptions", headers=DESK, json={"client_id": laura["id"], "plan_id": plans[0]["id"]})).json()
    # Another session holds the payments table: a payment now waits on the database.
    holder = databases.hold_lock(db_url, "payments", 2)
    try:
        await databases.wait_for_lock(db_url, "payments")
        slow = asyncio.ensure_future(api.post("/payments", headers=DESK, json={"subscription_id": sub["id"], "amount": "1000", "method": "cash"}))
        # Five other requests are answered while the payment still waits.
        for _ in range(5):
            quick = await api.get("/plans", headers=DESK)
            assert quick.status_code == 200
        assert not slow.done(), "the payment did not wait on the lock; the test proves nothing"
        paid = await slow
        assert paid.status_code == 201
    finally:
        holder.wait(timeout=30)

"""AsyncGym: awaitables on the shared runtime, many at once on one handle, and a
cancelled await leaves nothing half-written."""

import asyncio
import datetime
import subprocess
import time
from decimal import Decimal

import pytest

import powergym
from powergym import exceptions
from conftest import hold_lock, wait_for_lock

pytestmark = pytest.mark.asyncio


async def opened(url):
    gym = await powergym.AsyncGym.connect(url, max_connections=8)
    await gym.migrate()
    await gym.bootstrap_admin("admin", "admin-password")
    return gym, await gym.authenticate("admin", "admin-password")


def client_kwargs(n):
    return dict(
        document_type="CC", document_number=f"7000{n:04d}", first_name="Ana", last_name="Ríos",
        phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female",
    )


async def test_connect_failures_raise_from_the_awaitable():
    with pytest.raises(exceptions.InvalidDatabaseUrlError):
        await powergym.AsyncGym.connect("mysql://nowhere/db")
    with pytest.raises(exceptions.ConnectionFailedError):
        await powergym.AsyncGym.connect("postgres://u:p@127.0.0.1:1/db", acquire_timeout=2.0)


async def test_many_concurrent_awaits_on_one_handle(gym_url):
    gym, admin = await opened(gym_url)
    async with gym:
        plan = await gym.create_plan(admin, name="Mes", price=Decimal("1000"), duration_unit="month", duration_count=1)
        clients = await asyncio.gather(*(gym.register_client(admin, **client_kwargs(n)) for n in range(40)))
        assert len({c.id for c in clients}) == 40
        subs = await asyncio.gather(
            *(gym.create_subscription(admin, client_id=c.id, plan_id=plan.id) for c in clients)
        )
        sub = subs[0]
        # Twenty payments of 50 race for one balance of 1000: all fit, exactly.
        await asyncio.gather(
            *(gym.record_payment(admin, subscription_id=sub.id, amount=Decimal("50"), method="cash") for _ in range(20))
        )
        stats = await gym.subscription_payment_stats(admin, sub.id)
        assert (stats.count, stats.total_paid, stats.remaining_debt) == (20, Decimal("1000.00"), Decimal("0.00"))
        # The same member at the door from ten tasks: one entry.
        doors = await asyncio.gather(*(gym.check_in(admin, sub.client_id) for _ in range(10)))
        assert sum(d.granted for d in doors) == 1


async def test_a_waiting_call_does_not_block_the_loop_and_cancelling_it_writes_nothing(db_url):
    gym, admin = await opened(db_url)
    async with gym:
        plan = await gym.create_plan(admin, name="Mes", price=Decimal("1000"), duration_unit="month", duration_count=1)
        ana = await gym.register_client(admin, **client_kwargs(1))
        sub = await gym.create_subscription(admin, client_id=ana.id, plan_id=plan.id)
        holder = hold_lock(db_url, "payments", 3)
        try:
            await wait_for_lock(db_url, "payments")
            pending = asyncio.ensure_future(
                gym.record_payment(admin, subscription_id=sub.id, amount=Decimal("400"), method="cash")
            )
            # While the payment waits on the lock, the loop runs other work, including
            # other calls on the same handle.
            ticks = 0
            for _ in range(10):
                await asyncio.sleep(0.02)
                ticks += 1
            assert (await gym.get_client(admin, ana.id)).id == ana.id
            assert ticks == 10 and not pending.done()
            pending.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pending
            # The call hears of the cancellation from a callback the loop runs next; the
            # lock is still held, so it is dropped mid-transaction.
            await asyncio.sleep(0.1)
        finally:
            await asyncio.to_thread(holder.wait, 30)
        # The lock is gone: the cancelled payment left nothing, and the handle still works.
        stats = await gym.subscription_payment_stats(admin, sub.id)
        assert (stats.count, stats.total_paid) == (0, Decimal("0.00"))
        receipt = await gym.record_payment(admin, subscription_id=sub.id, amount=Decimal("1000"), method="cash")
        assert receipt.status == "active"


async def test_errors_arrive_as_the_typed_exceptions(gym_url):
    gym, admin = await opened(gym_url)
    async with gym:
        with pytest.raises(exceptions.NotFoundError):
            await gym.get_client(admin, "00000000-0000-0000-0000-000000000000")
        with pytest.raises(exceptions.ValidationError) as info:
            await gym.get_client(admin, "not-a-uuid")
        assert info.value.field == "client_id"
        with pytest.raises(exceptions.ValidationError):
            # Refused before anything is awaited: bad arguments raise at the call.
            gym.register_client(admin, **{**client_kwargs(2), "birth_date": "1990-01-01"})

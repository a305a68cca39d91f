"""Runs the shared conformance vectors (conformance/*.json) through the Python API. The
Rust and Kotlin suites run the same files; together they show the languages agree."""

import datetime
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

import powergym
from powergym.exceptions import PowergymError

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"
OWNER, OTHER = uuid.UUID(int=1), uuid.UUID(int=2)


def load_cases():
    files = sorted(CONFORMANCE.glob("*.json"))
    assert len(files) == 7, "one file per rule family"
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield pytest.param(case, id=f"{doc['family']}/{case['name']}")


def d(value):
    return None if value is None else datetime.date.fromisoformat(value)


def dec(value):
    return None if value is None else Decimal(value)


def run(op, i):
    if op == "end_date":
        return {"end": powergym.end_date(d(i["start"]), i["unit"], i["count"]).isoformat()}
    if op == "renewal_start":
        return {"start": powergym.renewal_start(d(i["latest_end"]), d(i["today"])).isoformat()}
    if op == "transition":
        return {"status": powergym.transition(i["status"], i["event"], fully_paid=i["fully_paid"], start_reached=i["start_reached"])}
    if op == "initial_status":
        return {"status": powergym.initial_status(d(i["start"]), d(i["today"]), price_is_zero=i["price_is_zero"])}
    if op == "price":
        p = powergym.price_snapshot(dec(i["list_price"]), dec(i["discount"]))
        return {"final_price": str(p.final_price), "discount_amount": str(p.discount_amount)}
    if op == "payment":
        o = powergym.accept_payment(
            i["status"], list_price=dec(i["list_price"]), discount=dec(i["discount"]), paid=dec(i["paid"]),
            amount=dec(i["amount"]), start=d(i["start"]), today=d(i["today"]),
        )
        return {"status": o.status, "balance": str(o.balance)}
    if op == "reward_evaluate":
        c = i["config"]
        config = powergym.RewardConfig(
            attendance_threshold=c["attendance_threshold"], discount_percentage=dec(c["discount_percentage"]),
            expiration_days=c["expiration_days"], eligible_units=c["eligible_units"],
        )
        r = powergym.evaluate_reward(
            config, status=i["status"], unit=i["unit"], start=d(i["start"]), end=d(i["end"]),
            today=d(i["today"]), attendance_days=i["attendance_days"],
        )
        out = {"eligible": r.eligible, "attendance_count": r.attendance_count}
        if r.eligible:
            out.update(eligible_date=r.eligible_date.isoformat(), expires_on=r.expires_on.isoformat(), discount=str(r.discount))
        return out
    if op == "reward_apply":
        p = powergym.apply_reward(
            reward_status=i["reward_status"], reward_client_id=OWNER, expires_on=d(i["expires_on"]),
            reward_discount=dec(i["reward_discount"]), target_client_id=OWNER if i["same_client"] else OTHER,
            target_status=i["target_status"], list_price=dec(i["list_price"]), discount=dec(i["discount"]),
            paid=dec(i["paid"]), today=d(i["today"]),
        )
        return {"final_price": str(p.final_price)}
    if op == "reward_expired":
        return {"expired": powergym.reward_expired(i["status"], d(i["expires_on"]), d(i["today"]))}
    if op == "stock_status":
        return {"status": powergym.stock_status(dec(i["quantity"]), dec(i["min_stock"]), dec(i["max_stock"]))}
    if op == "stock_entry":
        return {"stock": str(powergym.stock_after_entry(dec(i["current"]), dec(i["size"]), min_stock=dec(i["min_stock"]), max_stock=dec(i["max_stock"])))}
    if op == "stock_exit":
        return {"stock": str(powergym.stock_after_exit(dec(i["current"]), dec(i["size"])))}
    if op == "sale_total":
        return {"total": str(powergym.sale_total(dec(i["size"]), dec(i["unit_price"])))}
    if op == "movement_quantity":
        return {"signed": str(powergym.movement_quantity(i["movement_type"], dec(i["size"])))}
    if op == "access":
        views = [
            powergym.SubscriptionView(id=uuid.UUID(int=k), status=s["status"], start=d(s["start"]), end=d(s["end"]), fully_paid=s["fully_paid"])
            for k, s in enumerate(i["subscriptions"])
        ]
        a = powergym.decide_access(client_active=i["client_active"], already_checked_in=i["already_checked_in"], subscriptions=views, today=d(i["today"]))
        if a.granted:
            return {"decision": "granted", "subscription_index": a.subscription_id.int}
        return {"decision": "denied", "reason": a.reason}
    if op == "business_date":
        instant = datetime.datetime.fromisoformat(i["instant"].replace("Z", "+00:00"))
        return {"date": powergym.business_date(instant, i["time_zone"]).isoformat()}
    if op == "authorize":
        powergym.authorize(i["role"], i["disabled"], i["action"])
        return {"allowed": True}
    if op == "last_admin":
        powergym.guard_last_admin(i["role"], i["disabled"], i["change"], i["active_admins"])
        return {"allowed": True}
    raise AssertionError(f"unknown op {op}")


def error_fields(e):
    out = {"error": e.kind}
    for attr, key in [("balance", "balance"), ("requested", "requested"), ("available", "available"),
                      ("from_status", "from"), ("event", "event"), ("action", "action")]:
        if hasattr(e, attr):
            out[key] = str(getattr(e, attr))
    return out


def same(want, got):
    if isinstance(want, str) and isinstance(got, str):
        try:
            return Decimal(want) == Decimal(got)
        except ArithmeticError:
            return want == got
    return want == got


@pytest.mark.parametrize("case", list(load_cases()))
def test_vector(case):
    try:
        got = run(case["op"], case["input"])
    except PowergymError as e:
        got = error_fields(e)
    for key, want in case["expected"].items():
        assert same(want, got.get(key)), f"{key}: expected {want!r}, got {got!r}"


def test_there_are_at_least_200_vectors():
    assert len(list(load_cases())) >= 200

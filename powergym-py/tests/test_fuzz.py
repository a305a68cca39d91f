"""Hypothesis over the public calls: arbitrary text and numbers give a typed
PowergymError or a stored value that reads back equal — never another exception, a
crash or a hang. Database-backed, so bounded: 50 examples each, no deadline."""

import datetime
import itertools
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import powergym
from powergym.exceptions import PowergymError

BOUNDED = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What naive text handling trips on: controls, invisible and bidirectional marks,
# separators, accents, astral characters.
TRICKY = list("\x00\x07\x08\t\n\r\x1b\x7f\x85\xa0\xad\u200b\u200d\u200e\u202e\u2066\u2028\ufeff"
              "  .-'@+()áÉñÑßİ中😀") + ["\U000e0041"]

text = st.text(st.one_of(st.sampled_from(TRICKY), st.characters()), max_size=60)
long_text = st.one_of(text, st.builds(lambda c, n: c * n, st.sampled_from(TRICKY + ["a"]), st.integers(0, 2500)))
name = st.text(st.one_of(st.sampled_from(list("AnaMaríaGómez '-.") + TRICKY), st.characters()),
               min_size=0, max_size=30)
numbers = st.one_of(
    st.booleans(),
    st.integers(),
    st.integers(min_value=-10**12, max_value=10**12),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-10, max_value=10**10, places=2),
    st.floats(),
    st.text(max_size=8),
)

# Plausible values next to the arbitrary ones, so that about half the examples are
# stored and read back rather than refused.
plausible_name = st.one_of(
    st.sampled_from(["Ana", " María  José ", "O'Neil-Díaz", "Łukasz", "Zoë", "St. John"]),
    st.text(st.sampled_from(list("AnaMaríaGómezÑüßİ '-.")), min_size=1, max_size=30),
)
plausible_text = st.text(st.characters(exclude_categories=["Cc", "Cf", "Cs", "Zl", "Zp"]), min_size=1,
                         max_size=80)
money = st.decimals(min_value=0, max_value=10**6, places=2)

documents = itertools.count(10_000_000)


def words(s):
    return " ".join(s.split())


def stripped(s):
    if s is None:
        return None
    return s.strip() or None


@BOUNDED
@given(first=plausible_name | name, last=plausible_name | name,
       address=st.none() | plausible_text | long_text, email=st.none() | text, phone=st.none() | text)
def test_register_client(gym, admin, first, last, address, email, phone):
    number = str(next(documents))
    try:
        client = gym.register_client(
            admin, document_type="CC", document_number=number, first_name=first, last_name=last,
            phone=phone if phone is not None else "3001234567",
            birth_date=datetime.date(1990, 1, 1), gender="female", email=email, address=address,
        )
    except PowergymError as e:
        event(f"refused: {type(e).__name__} {getattr(e, 'field', '')}")
        return
    event("stored")
    assert gym.get_client(admin, client.id) == client
    assert gym.get_client_by_document(admin, "CC", number) == client
    assert (client.first_name, client.last_name) == (words(first), words(last))
    assert client.address == stripped(address)


@BOUNDED
@given(name=st.sampled_from(["Mensual", " Plan   anual ", "Día 😀"]) | plausible_text | long_text, description=st.none() | plausible_text | long_text,
       price=money | numbers, count=st.integers(1, 365) | st.integers() | st.booleans())
def test_create_plan(gym, admin, name, description, price, count):
    try:
        plan = gym.create_plan(admin, name=name, price=price, duration_unit="day",
                               duration_count=count, description=description)
    except PowergymError as e:
        event(f"refused: {type(e).__name__} {getattr(e, 'field', '')}")
        return
    event("stored")
    assert type(price) in (int, Decimal) and type(count) is int
    assert plan.name == words(name)
    assert plan.description == stripped(description)
    assert plan.price == price and plan.duration_count == count


@BOUNDED
@given(text=plausible_name | long_text, limit=st.integers(1, 500) | st.integers() | st.booleans(),
       offset=st.integers(0, 10**6) | st.integers())
def test_search_clients(gym, admin, text, limit, offset):
    try:
        page = gym.search_clients(admin, text, limit=limit, offset=offset)
    except PowergymError as e:
        event(f"refused: {type(e).__name__} {getattr(e, 'field', '')}")
        return
    event("stored")
    assert (page.limit, page.offset) == (limit, offset)
    assert len(page) <= limit and all(isinstance(c, powergym.Client) for c in page.items)


@BOUNDED
@given(amount=money | numbers, notes=st.none() | plausible_text | long_text)
def test_record_payment(gym, admin, amount, notes):
    plan = gym.create_plan(admin, name="Diario", price=Decimal("10000000"), duration_unit="day",
                           duration_count=1)
    client = gym.register_client(
        admin, document_type="CC", document_number=str(next(documents)), first_name="Ana",
        last_name="Gómez", phone="3001234567", birth_date=datetime.date(1990, 1, 1), gender="female",
    )
    sub = gym.create_subscription(admin, client_id=client.id, plan_id=plan.id)
    try:
        receipt = gym.record_payment(admin, subscription_id=sub.id, amount=amount, method="cash",
                                     notes=notes)
    except PowergymError as e:
        event(f"refused: {type(e).__name__} {getattr(e, 'field', '')}")
        return
    event("stored")
    assert type(amount) in (int, Decimal)
    assert receipt.amount == amount
    assert receipt.balance == Decimal("10000000") - receipt.amount

"""Entities (seats, entity-scoped balances) and locks (reserve, finalize, expiry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from allotment import Allotment, AllotmentError
from allotment.domain.clock import to_ms
from tests.catalogs import item, metered, plan
from tests.conftest import FakeClock


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(**kwargs)
    return caught.value.code


def workspace_catalog(engine: Allotment) -> None:
    metered(engine, "seats", consumable=False)
    metered(engine, "msgs", name="Messages")
    plan(
        engine,
        "team",
        item("seats", 2, reset=None),
        item("msgs", 100, reset=None),
        auto_enable=True,
    )
    plan(engine, "seat_plan", item("msgs", 500, reset=None), name="Per seat", add_on=True)
    engine.customers.get_or_create(customer_id="c")


def remaining(engine: Allotment, feature_id: str) -> object:
    return engine.customers.get(customer_id="c").balances[feature_id].remaining


def test_entities_count_seats_and_can_exceed_the_grant(engine: Allotment) -> None:
    workspace_catalog(engine)
    for n in range(3):
        engine.entities.create(customer_id="c", entity_id=f"u{n}", feature_id="seats", name=f"U{n}")
    seats = engine.customers.get(customer_id="c").balances["seats"]
    assert (seats.granted, seats.usage, seats.remaining) == (2, 3, 0)
    assert (
        code_of(engine.entities.create, customer_id="c", entity_id="u0", feature_id="seats")
        == "entity_already_exists"
    )
    engine.entities.delete(customer_id="c", entity_id="u2")
    assert engine.customers.get(customer_id="c").balances["seats"].usage == 2
    assert code_of(engine.entities.get, customer_id="c", entity_id="u2") == "entity_not_found"
    page, cursor = engine.entities.list(customer_id="c")
    assert [e.id for e in page] == ["u0", "u1"] and cursor is None
    assert engine.verify().ok


def test_seats_never_reset_while_monthly_credits_do(engine: Allotment, clock: FakeClock) -> None:
    engine.features.create(feature_id="seats", name="Seats", type_="metered", consumable=False)
    engine.features.create(feature_id="msgs", name="Messages", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="team",
        name="Team",
        auto_enable=True,
        items=[
            {"feature_id": "seats", "included": 5},
            {"feature_id": "msgs", "included": 100, "reset": {"interval": "month"}},
        ],
    )
    engine.customers.get_or_create(customer_id="c")
    for n in range(3):
        engine.entities.create(customer_id="c", entity_id=f"u{n}", feature_id="seats")
    engine.track(customer_id="c", feature_id="msgs", value=40)
    year_later = to_ms(clock.now + timedelta(days=400))
    engine.customers.advance_test_clock(customer_id="c", frozen_time=year_later)
    balances = engine.customers.get(customer_id="c").balances
    assert (balances["seats"].usage, balances["seats"].next_reset_at) == (3, None)
    assert balances["msgs"].remaining == 100  # the monthly credits did reset
    engine.entities.delete(customer_id="c", entity_id="u0")
    assert engine.customers.get(customer_id="c").balances["seats"].usage == 2
    assert engine.verify().ok


def test_entity_balances_are_drawn_before_the_customers(engine: Allotment) -> None:
    workspace_catalog(engine)
    engine.entities.create(customer_id="c", entity_id="u0", feature_id="seats")
    engine.billing.attach(customer_id="c", plan_id="seat_plan", entity_id="u0")
    # a customer-level check sums the customer's and the entities' balances
    r = engine.check(customer_id="c", feature_id="msgs", required_balance=600)
    assert r.allowed and r.balance is not None and r.balance.remaining == 600
    engine.track(customer_id="c", entity_id="u0", feature_id="msgs", value=520)
    entity = engine.entities.get(customer_id="c", entity_id="u0")
    parts = {p.plan_id: p.remaining for p in entity.balances["msgs"].breakdown}
    assert parts == {"team": 80, "seat_plan": 0}
    # without entity_id the customer's own rows go first
    engine.track(customer_id="c", feature_id="msgs", value=10)
    assert remaining(engine, "msgs") == 70
    assert (
        code_of(engine.track, customer_id="c", entity_id="ghost", feature_id="msgs")
        == "entity_not_found"
    )
    engine.entities.delete(customer_id="c", entity_id="u0")
    assert remaining(engine, "msgs") == 70
    assert engine.verify().ok


def test_lock_reserves_and_release_gives_everything_back(engine: Allotment) -> None:
    workspace_catalog(engine)
    lock = {"lock_id": "job-1", "enabled": True}
    r = engine.check(customer_id="c", feature_id="msgs", required_balance=30, lock=lock)
    assert r.allowed and r.balance is not None and r.balance.remaining == 70
    assert code_of(engine.check, customer_id="c", feature_id="msgs", lock=lock) == (
        "lock_already_exists"
    )
    engine.balances.finalize(lock_id="job-1", action="release")
    assert remaining(engine, "msgs") == 100
    assert code_of(engine.balances.finalize, lock_id="job-1", action="confirm") == (
        "lock_already_finalized"
    )
    assert code_of(engine.balances.finalize, lock_id="nope", action="confirm") == "lock_not_found"
    assert engine.verify().ok


def test_confirm_with_a_different_value(engine: Allotment) -> None:
    workspace_catalog(engine)
    engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=30,
        lock={"lock_id": "a", "enabled": True},
    )
    engine.balances.finalize(lock_id="a", action="confirm", override_value=12)
    assert remaining(engine, "msgs") == 88
    engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=10,
        lock={"lock_id": "b", "enabled": True},
    )
    engine.balances.finalize(lock_id="b", action="confirm", override_value=25)
    assert remaining(engine, "msgs") == 63
    engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=3,
        lock={"lock_id": "c", "enabled": True},
    )
    engine.balances.finalize(lock_id="c", action="confirm")
    assert remaining(engine, "msgs") == 60
    values = [e.value for e in engine.events.list(customer_id="c").list]
    assert values == [3, 25, 12]
    assert engine.verify().ok


def test_a_lock_that_does_not_fit_takes_nothing(engine: Allotment) -> None:
    workspace_catalog(engine)
    r = engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=101,
        lock={"lock_id": "big", "enabled": True},
    )
    assert not r.allowed
    assert remaining(engine, "msgs") == 100
    assert code_of(engine.balances.finalize, lock_id="big", action="release") == "lock_not_found"


def test_lock_expires_by_itself(engine: Allotment, clock: FakeClock) -> None:
    workspace_catalog(engine)
    expires = to_ms(clock.now + timedelta(minutes=5))
    engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=40,
        lock={"lock_id": "x", "enabled": True, "expires_at": expires},
    )
    clock.advance(minutes=5, milliseconds=-1)
    assert remaining(engine, "msgs") == 60
    clock.advance(milliseconds=1)
    assert remaining(engine, "msgs") == 100
    assert code_of(engine.balances.finalize, lock_id="x", action="confirm") == (
        "lock_already_finalized"
    )
    assert engine.verify().ok


@pytest.mark.parametrize(
    ("lock", "feature_id", "code"),
    [
        ({"lock_id": "l", "enabled": True, "expires_at": 1}, "msgs", "invalid_inputs"),
        ({"lock_id": "", "enabled": True}, "msgs", "invalid_inputs"),
        ({"lock_id": "l", "enabled": True}, "seats", "invalid_request"),
    ],
)
def test_lock_errors(engine: Allotment, lock: dict[str, Any], feature_id: str, code: str) -> None:
    workspace_catalog(engine)
    assert code_of(engine.check, customer_id="c", feature_id=feature_id, lock=lock) == code
    assert remaining(engine, "msgs") == 100


def test_lock_expiry_more_than_a_day_ahead_is_refused(engine: Allotment, clock: FakeClock) -> None:
    workspace_catalog(engine)
    too_late = to_ms(clock.now + timedelta(days=1, milliseconds=1))
    lock = {"lock_id": "l", "enabled": True, "expires_at": too_late}
    assert code_of(engine.check, customer_id="c", feature_id="msgs", lock=lock) == "invalid_inputs"


def test_zero_lock_without_entitlement_is_allowed(engine: Allotment) -> None:
    workspace_catalog(engine)
    engine.features.create(feature_id="other", name="Other", type_="metered", consumable=True)
    r = engine.check(
        customer_id="c",
        feature_id="other",
        required_balance=0,
        lock={"lock_id": "z", "enabled": True},
    )
    assert r.allowed

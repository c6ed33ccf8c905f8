"""track: deduction order, overage behaviours, refunds, idempotency, fan-out, events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from allotment import Allotment, AllotmentError
from tests.catalogs import credit_system, metered, plan


def setup(engine: Allotment, items: list[dict[str, Any]], cost: Any = 3) -> None:
    metered(engine, "work")
    credit_system(engine, "pool", {"work": cost})
    plan(engine, "main", *items, auto_enable=True)
    engine.customers.get_or_create(customer_id="c")


def balances(engine: Allotment) -> dict[str, tuple[Decimal, Decimal]]:
    found = engine.customers.get(customer_id="c").balances
    return {k: (v.remaining, v.usage) for k, v in found.items()}


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(**kwargs)
    return caught.value.code


def test_own_balance_is_drawn_before_the_pool(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 100}, {"feature_id": "work", "included": 4}])
    t = engine.track(customer_id="c", feature_id="work", value=6)
    assert balances(engine) == {"pool": (94, 6), "work": (0, 4)}
    # the feature's own balance answers track even when it was drained and the pool paid
    assert t.balance is not None and t.balance.feature_id == "work"


def test_shorter_interval_before_longer_before_lifetime(engine: Allotment) -> None:
    setup(
        engine,
        [
            {"feature_id": "work", "included": 10},
            {"feature_id": "work", "included": 10, "reset": {"interval": "month"}},
            {"feature_id": "work", "included": 10, "reset": {"interval": "day"}},
        ],
    )
    engine.track(customer_id="c", feature_id="work", value=15)
    parts = engine.customers.get(customer_id="c").balances["work"].breakdown
    by_reset = {(p.reset.interval if p.reset else "none"): p.remaining for p in parts}
    assert by_reset == {"day": 0, "month": 5, "one_off": 10}


def test_main_plan_before_add_on(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 10}])
    engine.plans.create(
        plan_id="topup", name="Top-up", add_on=True, items=[{"feature_id": "pool", "included": 30}]
    )
    engine.billing.attach(customer_id="c", plan_id="topup")
    engine.track(customer_id="c", feature_id="work", value=4)  # 12 credits
    parts = engine.customers.get(customer_id="c").balances["pool"].breakdown
    assert {p.plan_id: p.remaining for p in parts} == {"main": 0, "topup": 28}


def test_cap_takes_what_fits_and_records_the_full_event(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 10}])
    t = engine.track(customer_id="c", feature_id="work", value=5)
    assert t.value == 5
    assert balances(engine) == {"pool": (0, 10)}
    assert engine.events.list(customer_id="c").list[0].value == 5


def test_reject_applies_nothing(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 10}])
    assert (
        code_of(
            engine.track, customer_id="c", feature_id="work", value=4, overage_behavior="reject"
        )
        == "insufficient_balance"
    )
    assert balances(engine) == {"pool": (10, 0)}
    assert engine.events.list(customer_id="c").list == []
    engine.track(customer_id="c", feature_id="work", value=3, overage_behavior="reject")
    assert balances(engine) == {"pool": (1, 9)}


def test_overflow_goes_below_zero(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 10}])
    engine.track(customer_id="c", feature_id="work", value=5, overage_behavior="overflow")
    assert balances(engine) == {"pool": (0, 15)}
    assert engine.verify().ok


def test_negative_value_refunds_never_above_granted(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 30}, {"feature_id": "work", "included": 2}])
    engine.track(customer_id="c", feature_id="work", value=5)  # 2 own + 9 credits
    engine.track(customer_id="c", feature_id="work", value=-2)  # refills the pool first
    assert balances(engine) == {"pool": (27, 3), "work": (0, 2)}
    engine.track(customer_id="c", feature_id="work", value=-100)
    assert balances(engine) == {"pool": (30, 0), "work": (2, 0)}
    assert engine.verify().ok


def test_continuous_use_counts_past_its_grant(engine: Allotment) -> None:
    engine.features.create(feature_id="seats", name="Seats", type_="metered", consumable=False)
    engine.plans.create(
        plan_id="team",
        name="Team",
        auto_enable=True,
        items=[{"feature_id": "seats", "included": 5}],
    )
    engine.customers.get_or_create(customer_id="c")
    engine.track(customer_id="c", feature_id="seats", value=8)
    seats = engine.customers.get(customer_id="c").balances["seats"]
    assert (seats.granted, seats.remaining, seats.usage) == (5, 0, 8)
    assert (
        code_of(
            engine.track, customer_id="c", feature_id="seats", value=1, overage_behavior="reject"
        )
        == "insufficient_balance"
    )


def test_idempotency_key(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 30}])
    engine.track(customer_id="c", feature_id="work", value=1, idempotency_key="k1")
    assert (
        code_of(engine.track, customer_id="c", feature_id="work", value=2, idempotency_key="k1")
        == "duplicate_idempotency_key"
    )
    assert balances(engine) == {"pool": (27, 3)}
    # a failed request never burns its key
    assert (
        code_of(
            engine.track,
            customer_id="c",
            feature_id="work",
            value=100,
            overage_behavior="reject",
            idempotency_key="k2",
        )
        == "insufficient_balance"
    )
    engine.track(customer_id="c", feature_id="work", value=1, idempotency_key="k2")
    assert balances(engine) == {"pool": (24, 6)}


def test_event_name_fans_out(engine: Allotment) -> None:
    for feature_id in ("daily_messages", "monthly_messages"):
        engine.features.create(
            feature_id=feature_id,
            name=feature_id,
            type_="metered",
            consumable=True,
            event_names=["message_sent"],
        )
    engine.plans.create(
        plan_id="p",
        name="P",
        auto_enable=True,
        items=[
            {"feature_id": "daily_messages", "included": 10, "reset": {"interval": "day"}},
            {"feature_id": "monthly_messages", "included": 100, "reset": {"interval": "month"}},
        ],
    )
    engine.customers.get_or_create(customer_id="c")
    t = engine.track(customer_id="c", event_name="message_sent", value=3)
    assert t.balance is None
    assert balances(engine) == {"daily_messages": (7, 3), "monthly_messages": (97, 3)}
    assert (
        code_of(engine.track, customer_id="c", event_name="nobody_listens") == "feature_not_found"
    )
    assert (
        code_of(engine.track, customer_id="c", event_name="message_sent", overage_behavior="reject")
        == "invalid_inputs"
    )
    assert code_of(engine.track, customer_id="c") == "invalid_inputs"
    assert (
        code_of(
            engine.track, customer_id="c", feature_id="daily_messages", event_name="message_sent"
        )
        == "invalid_inputs"
    )


def test_properties_and_timestamp_are_stored(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 30}])
    engine.track(
        customer_id="c",
        feature_id="work",
        value="1.5",
        properties={"model": "gpt"},
        timestamp=1_700_000_000_123,
    )
    event = engine.events.list(customer_id="c").list[0]
    assert (event.value, event.properties, event.timestamp) == (
        Decimal("1.5"),
        {"model": "gpt"},
        1_700_000_000_123,
    )
    assert balances(engine) == {"pool": (Decimal("25.5"), Decimal("4.5"))}


def test_track_without_a_balance_records_the_event(engine: Allotment) -> None:
    setup(engine, [])
    t = engine.track(customer_id="c", feature_id="work", value=2)
    assert t.balance is None
    assert len(engine.events.list(customer_id="c").list) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"value": float("nan")},
        {"value": float("inf")},
        {"value": "0.0000001"},
        {"value": "1e20"},
        {"overage_behavior": "sometimes"},
        {"timestamp": -5},
        {"properties": "not an object"},
        {"idempotency_key": ""},
    ],
)
def test_bad_input_changes_nothing(engine: Allotment, bad: dict[str, Any]) -> None:
    setup(engine, [{"feature_id": "pool", "included": 30}])
    assert code_of(engine.track, customer_id="c", feature_id="work", **bad) == "invalid_inputs"
    assert balances(engine) == {"pool": (30, 0)}
    assert engine.events.list(customer_id="c").list == []


def test_value_times_cost_beyond_the_scale_is_refused(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 30}], cost="0.01")
    assert (
        code_of(engine.track, customer_id="c", feature_id="work", value="0.000001")
        == "invalid_inputs"
    )
    assert balances(engine) == {"pool": (30, 0)}


def test_events_paginate_newest_first(engine: Allotment) -> None:
    setup(engine, [{"feature_id": "pool", "included": 300}])
    for n in range(5):
        engine.track(customer_id="c", feature_id="work", value=n + 1)
    first = engine.events.list(customer_id="c", limit=2)
    assert [e.value for e in first.list] == [5, 4]
    assert first.next_cursor is not None
    second = engine.events.list(customer_id="c", limit=2, start_cursor=first.next_cursor)
    assert [e.value for e in second.list] == [3, 2]
    third = engine.events.list(customer_id="c", limit=2, start_cursor=second.next_cursor)
    assert [e.value for e in third.list] == [1]
    assert third.next_cursor is None

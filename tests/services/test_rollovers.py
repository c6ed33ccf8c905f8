"""Rollovers at the exact instants: leftovers roll into rollover grants at each reset, capped
by max / max_percentage (oldest trimmed first), drawn first (soonest expiry first), expiring at
the instant their expiry passes; unseen periods play as if each had been applied in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from allotment import Allotment
from allotment.domain.errors import AllotmentError
from allotment.storage.tables import entries
from tests import catalogs
from tests.conftest import FakeClock

MS = timedelta(milliseconds=1)
ANCHOR = datetime(2026, 1, 31, 12, tzinfo=UTC)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def make_plan(engine: Allotment, rollover: dict[str, Any] | None, included: int = 100) -> None:
    catalogs.metered(engine, "msg", name="Messages")
    item = catalogs.item("msg", included, rollover=rollover)
    catalogs.plan(engine, "pro", item, auto_enable=True)
    engine.customers.get_or_create(customer_id="u")


def balance(engine: Allotment) -> Any:
    return engine.customers.get(customer_id="u").balances["msg"]


def kinds(engine: Allotment) -> list[tuple[str, int]]:
    with engine.database.engine.connect() as connection:
        rows = connection.execute(select(entries.c.kind, entries.c.amount).order_by(entries.c.id))
        return [(r.kind, r.amount // 10**6) for r in rows]


def test_leftover_rolls_over_at_the_reset_and_expires_at_the_next(
    engine: Allotment, clock: FakeClock
) -> None:
    clock.set(ANCHOR)
    make_plan(engine, {"max": 50, "expiry_duration_type": "month", "expiry_duration_length": 1})
    engine.track(customer_id="u", feature_id="msg", value=70)  # 30 left
    clock.set(at(2, 28) - MS)
    assert balance(engine).remaining == 30
    assert balance(engine).rollovers is None
    clock.set(at(2, 28))
    now = balance(engine)
    assert (now.granted, now.remaining, now.usage) == (130, 130, 0)
    assert [(r.balance, r.expires_at) for r in now.rollovers] == [
        (30, int(at(3, 31).timestamp() * 1000))
    ]
    # the rollover is drawn first
    engine.track(customer_id="u", feature_id="msg", value=10)
    now = balance(engine)
    assert now.rollovers[0].balance == 20
    assert now.breakdown[0].remaining == 100
    # one ms before its expiry it still counts; at the instant, it is gone (and a new one rolls)
    clock.set(at(3, 31) - MS)
    assert balance(engine).remaining == 120
    clock.set(at(3, 31))
    now = balance(engine)
    assert now.remaining == 150  # 100 fresh + the 50 cap of the 100 left (the 20 expired)
    assert [r.balance for r in now.rollovers] == [50]
    assert ("expire", -20) in kinds(engine)
    assert engine.verify().ok


def test_max_percentage_caps_and_trims_the_oldest_first(
    engine: Allotment, clock: FakeClock
) -> None:
    clock.set(ANCHOR)
    make_plan(engine, {"max_percentage": 50, "expiry_duration_type": "forever"})
    # 50% of 100 = a cap of 50; never-expiring rollovers are one piece
    clock.set(at(2, 28))
    assert [r.balance for r in balance(engine).rollovers] == [50]
    assert ("rollover", 50) in kinds(engine)
    clock.set(at(3, 31))
    assert [r.balance for r in balance(engine).rollovers] == [50]
    assert balance(engine).remaining == 150
    engine.track(customer_id="u", feature_id="msg", value=120)  # 50 rollover, then 70 main
    assert balance(engine).remaining == 30
    assert balance(engine).rollovers[0].balance == 0
    clock.set(at(4, 30))
    assert [r.balance for r in balance(engine).rollovers] == [30]
    assert engine.verify().ok


def test_expiring_pieces_trim_oldest_first(engine: Allotment, clock: FakeClock) -> None:
    clock.set(ANCHOR)
    make_plan(engine, {"max": 150, "expiry_duration_type": "month", "expiry_duration_length": 3})
    clock.set(at(2, 28))
    assert [r.balance for r in balance(engine).rollovers] == [100]
    clock.set(at(3, 31))
    assert [r.balance for r in balance(engine).rollovers] == [50, 100]
    assert ("trim", -50) in kinds(engine)
    clock.set(at(4, 30))
    assert [r.balance for r in balance(engine).rollovers] == [50, 100]
    assert engine.verify().ok


@pytest.mark.parametrize("step", ["one_by_one", "all_at_once"])
def test_unseen_periods_play_as_if_each_was_applied(
    engine: Allotment, clock: FakeClock, step: str
) -> None:
    clock.set(ANCHOR)
    make_plan(engine, {"max": 250, "expiry_duration_type": "month", "expiry_duration_length": 2})
    engine.track(customer_id="u", feature_id="msg", value=60)  # 40 left
    target = at(6, 15)
    if step == "one_by_one":
        for moment in [at(2, 28), at(3, 31), at(4, 30), at(5, 31), target]:
            clock.set(moment)
            balance(engine)
    clock.set(target)
    now = balance(engine)
    # pieces born Apr 30 and May 31 survive (2-month expiry), 100 each
    assert [(r.balance, r.expires_at) for r in now.rollovers] == [
        (100, int(at(6, 30).timestamp() * 1000)),
        (100, int(at(7, 31).timestamp() * 1000)),
    ]
    assert now.remaining == 300
    assert engine.verify().ok


def test_rollover_validation(engine: Allotment, clock: FakeClock) -> None:
    clock.set(ANCHOR)
    engine.features.create(feature_id="msg", name="Messages", type_="metered", consumable=True)
    bad = [
        {"feature_id": "msg", "included": 5, "rollover": {"max": 5}},  # no reset
        {"feature_id": "msg", "included": 5, "reset": {"interval": "hour"}, "rollover": {}},
        {
            "feature_id": "msg",
            "included": 5,
            "reset": {"interval": "month"},
            "rollover": {"max_percentage": 101},
        },
        {
            "feature_id": "msg",
            "included": 5,
            "reset": {"interval": "month"},
            "rollover": {"expiry_duration_type": "week"},
        },
    ]
    for item in bad:
        with pytest.raises(AllotmentError) as error:
            engine.plans.create(plan_id="p", name="P", items=[item])
        assert error.value.code == "invalid_inputs"


def test_loose_grant_rolls_over_with_the_create_shape(engine: Allotment, clock: FakeClock) -> None:
    clock.set(ANCHOR)
    engine.features.create(feature_id="msg", name="Messages", type_="metered", consumable=True)
    engine.customers.get_or_create(customer_id="u")
    engine.balances.create(
        customer_id="u",
        feature_id="msg",
        included_grant=Decimal("10.5"),
        reset={"interval": "month"},
        rollover={"max": 5, "duration": "month", "length": 1},
    )
    clock.set(at(2, 28))
    now = balance(engine)
    assert now.remaining == Decimal("15.5")
    assert [r.balance for r in now.rollovers] == [5]
    # deleting the grant takes its rollovers with it
    engine.balances.delete(customer_id="u", feature_id="msg")
    assert "msg" not in engine.customers.get(customer_id="u").balances
    assert engine.verify().ok


@pytest.mark.parametrize("look_in_between", [True, False])
def test_a_used_up_forever_piece_closes_whether_or_not_the_boundary_is_seen(
    engine: Allotment, clock: FakeClock, look_in_between: bool
) -> None:
    """Found by the stateful model: played unseen, the empty piece used to be revived with its
    old `granted` instead of closing at the first boundary."""
    clock.set(ANCHOR)
    engine.features.create(feature_id="work", name="Work", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="main",
        name="Main",
        auto_enable=True,
        items=[
            {
                "feature_id": "work",
                "included": "1",
                "reset": {"interval": "month"},
                "rollover": {"max_percentage": "10", "expiry_duration_type": "forever"},
            }
        ],
    )
    engine.customers.get_or_create(customer_id="c1")
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))  # Feb 28: a 0.1 piece rolls over
    engine.track(customer_id="c1", feature_id="work", value=Decimal("1.1"))  # all used up
    if look_in_between:
        clock.set(datetime(2026, 4, 1, tzinfo=UTC))  # Mar 31 seen on its own
        engine.customers.get(customer_id="c1")
    clock.set(datetime(2026, 5, 2, tzinfo=UTC))  # past Apr 30
    work = engine.customers.get(customer_id="c1").balances["work"]
    assert [(p.granted, p.balance) for p in work.rollovers] == [(Decimal("0.1"), Decimal("0.1"))]
    assert (work.granted, work.remaining) == (Decimal("1.1"), Decimal("1.1"))
    assert engine.verify().ok

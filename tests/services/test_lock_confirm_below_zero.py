"""`balances.finalize` with `action: "confirm"` and a negative `override_value` (issue 10,
item 8): the lock's event then costs that negative amount. Everything the lock reserved comes
back (the release rule: only to grants that have not reset or expired since, the rest recorded
as `unrestored`), and the absolute value is refunded on top by the rule of a negative track
(reverse deduction order, each grant at most to its granted amount; what does not fit is
recorded on the event as `unapplied`, not applied).

Autumn's behaviour is read from useautumn/autumn@187c0a7fd,
server/tests/integration/balances/lock/basic/check-with-lock-refund.test.ts (RF-2) and
check-with-lock-additional-deduct.test.ts (AD-2, AD-3). Autumn writes the difference as a
second event; allotment keeps one event per lock, whose value becomes the final value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from allotment import Allotment, AllotmentError
from allotment.domain.clock import to_ms
from allotment.storage.tables import entries, events
from tests.catalogs import item, metered, plan, seed_catalog
from tests.conftest import FakeClock

START = datetime(2026, 1, 31, 12, tzinfo=UTC)
UNIT = 10**6


@pytest.fixture
def free(engine: Allotment, clock: FakeClock) -> Allotment:
    """Autumn's fixture product of those tests: hourly messages (5) + monthly messages (10)."""
    clock.set(START)
    metered(engine, "msgs", name="Messages")
    plan(
        engine,
        "free",
        item("msgs", 5, reset="hour"),
        item("msgs", 10, reset="month"),
        auto_enable=True,
    )
    engine.customers.get_or_create(customer_id="c")
    return engine


def lock(engine: Allotment, lock_id: str, required: Any, feature_id: str = "msgs") -> Any:
    return engine.check(
        customer_id="c",
        feature_id=feature_id,
        required_balance=required,
        lock={"lock_id": lock_id, "enabled": True},
    )


def remaining(engine: Allotment, feature_id: str = "msgs") -> Decimal:
    return engine.customers.get(customer_id="c").balances[feature_id].remaining


def parts(engine: Allotment) -> dict[str, Decimal]:
    """Remaining per reset interval (one grant each)."""
    breakdown = engine.customers.get(customer_id="c").balances["msgs"].breakdown
    return {p.reset.interval if p.reset else "none": p.remaining for p in breakdown}


def event_values(engine: Allotment) -> list[Decimal]:
    return [e.value for e in engine.events.list(customer_id="c").list]


def ledger_of_last_event(engine: Allotment) -> list[tuple[str, int, int | None]]:
    """(kind, amount, units) of the entries of the newest event, in order, in whole units."""
    with engine.database.engine.connect() as connection:
        event_id = connection.scalar(select(events.c.id).order_by(events.c.id.desc()))
        rows = connection.execute(
            select(entries.c.kind, entries.c.amount, entries.c.units)
            .where(entries.c.event_id == event_id)
            .order_by(entries.c.id)
        )
        return [
            (r.kind, r.amount // UNIT, None if r.units is None else r.units // UNIT) for r in rows
        ]


def unapplied_of_last_event(engine: Allotment) -> Decimal:
    with engine.database.engine.connect() as connection:
        units = connection.scalar(select(events.c.unapplied).order_by(events.c.id.desc()))
    return Decimal(units) / UNIT


def test_the_issue_example_remaining_10_lock_8_confirm_minus_3_gives_13(free: Allotment) -> None:
    """Issue 10 item 8: remaining 10, lock 8 -> 2, confirm -3 -> 13 (Autumn RF-2 in
    check-with-lock-refund.test.ts: track 5 of 15, lock 8, confirm -3, remaining 13). The
    reservation goes back to the monthly grant that paid it; the refund of 3 then fills in
    reverse deduction order: the monthly grant is full, so the hourly one gets the 3."""
    free.track(customer_id="c", feature_id="msgs", value=5)  # the hourly grant pays first
    assert remaining(free) == 10
    r = lock(free, "l", 8)
    assert r.allowed and r.balance is not None and r.balance.remaining == 2
    free.balances.finalize(lock_id="l", action="confirm", override_value=-3)
    assert remaining(free) == 13
    assert parts(free) == {"hour": 3, "month": 10}
    assert event_values(free) == [-3, 5]  # the lock's event costs the negative value
    assert ledger_of_last_event(free) == [("usage", -8, 8), ("release", 8, -8), ("refund", 3, -3)]
    assert unapplied_of_last_event(free) == 0
    with pytest.raises(AllotmentError) as error:
        free.balances.finalize(lock_id="l", action="release")
    assert error.value.code == "lock_already_finalized"
    assert free.verify().ok


def test_the_refund_never_raises_a_grant_above_granted(free: Allotment) -> None:
    """Autumn AD-3 (check-with-lock-additional-deduct.test.ts): lock 5 of a full 15, confirm -2
    -> 15, not 17. What does not fit (2) is recorded on the event as unapplied, not applied
    (the rule of a negative track)."""
    lock(free, "l", 5)
    assert remaining(free) == 10
    free.balances.finalize(lock_id="l", action="confirm", override_value=Decimal("-2"))
    assert remaining(free) == 15
    assert event_values(free) == [-2]
    assert ledger_of_last_event(free) == [("usage", -5, 5), ("release", 5, -5)]
    assert unapplied_of_last_event(free) == 2
    assert free.verify().ok


def test_a_partial_fit_applies_what_fits_and_records_the_rest(free: Allotment) -> None:
    """Issue 10 item 8, refund rules: 6 used before the lock; lock 4, confirm -10: the 4 come
    back, 6 of the 10 fit (back to 15 of 15) and 4 are recorded as unapplied."""
    free.track(customer_id="c", feature_id="msgs", value=6)
    lock(free, "l", 4)
    free.balances.finalize(lock_id="l", action="confirm", override_value=-10)
    assert parts(free) == {"hour": 5, "month": 10}
    assert unapplied_of_last_event(free) == 4
    assert free.verify().ok


def test_a_grant_that_reset_since_gets_none_of_the_reservation_back(
    engine: Allotment, clock: FakeClock
) -> None:
    """Issue 10 item 8, the reversal rule: a lock taken before a reset and confirmed at -3
    after it gives nothing of the reservation to the new cycle (an `unrestored` entry of
    amount 0 records the 8 units); the refund of 3 then follows the negative-track rule on
    the grants as they are now (a new cycle used 6: 4 -> 7). The lock part of Autumn's tests:
    check-with-lock-refund.test.ts (RF-2)."""
    clock.set(START)
    engine.features.create(feature_id="msgs", name="Messages", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="monthly",
        name="Monthly",
        auto_enable=True,
        items=[{"feature_id": "msgs", "included": 10, "reset": {"interval": "month"}}],
    )
    engine.customers.get_or_create(customer_id="c")
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    clock.set(boundary - timedelta(hours=1))
    lock(engine, "l", 8)
    assert remaining(engine) == 2
    clock.set(boundary + timedelta(minutes=5))
    assert remaining(engine) == 10  # the new cycle
    engine.track(customer_id="c", feature_id="msgs", value=6)
    engine.balances.finalize(lock_id="l", action="confirm", override_value=-3)
    assert remaining(engine) == 7  # not min(10, 4 + 8) + 0
    with engine.database.engine.connect() as connection:
        lock_event = connection.scalar(select(events.c.id).order_by(events.c.id))
        ledger = connection.execute(
            select(entries.c.kind, entries.c.amount, entries.c.units)
            .where(entries.c.event_id == lock_event)
            .order_by(entries.c.id)
        ).all()
    assert [(k, a // UNIT, u // UNIT) for k, a, u in ledger] == [
        ("usage", -8, 8),
        ("unrestored", 0, -8),
        ("refund", 3, -3),
    ]
    assert engine.verify().ok


def test_one_ms_before_the_reset_the_reservation_still_comes_back(
    engine: Allotment, clock: FakeClock
) -> None:
    """Issue 10 item 8 with the reversal rule's edge: before the boundary the grant is in the
    same cycle, so the 8 come back, and the refund of 3 does not fit (10 of 10): unapplied."""
    clock.set(START)
    engine.features.create(feature_id="msgs", name="Messages", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="monthly",
        name="Monthly",
        auto_enable=True,
        items=[{"feature_id": "msgs", "included": 10, "reset": {"interval": "month"}}],
    )
    engine.customers.get_or_create(customer_id="c")
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    clock.set(boundary - timedelta(hours=1))
    lock(engine, "l", 8)
    clock.set(boundary - timedelta(milliseconds=1))
    engine.balances.finalize(lock_id="l", action="confirm", override_value=-3)
    assert remaining(engine) == 10
    assert unapplied_of_last_event(engine) == 3
    assert engine.verify().ok


def test_a_credit_system_pool(engine: Allotment, clock: FakeClock) -> None:
    """Issue 10 item 8 on a credit pool (premium_request costs 3 credits): 5 tracked (85), a
    lock of 2 reserves 6 credits (79), confirm -3 gives the 6 back and refunds 3 x 3 = 9
    credits on top (94). Autumn's lock on credit systems:
    check-with-lock-credit-system.test.ts; the negative confirm: RF-2."""
    clock.set(START)
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="c")
    engine.track(customer_id="c", feature_id="premium_request", value=5)
    r = lock(engine, "l", 2, "premium_request")
    assert r.required_balance == 6 and r.balance is not None and r.balance.remaining == 79
    engine.balances.finalize(lock_id="l", action="confirm", override_value=-3)
    assert remaining(engine, "credits") == 94
    assert event_values(engine) == [-3, 5]
    assert ledger_of_last_event(engine) == [("usage", -6, 2), ("release", 6, -2), ("refund", 9, -3)]
    # and capped at the granted amount: a lock of 1 (91), confirm -4: the 3 credits come
    # back (94), then 6 of the 12 credits fit (100); 2 units (6 credits) are unapplied
    lock(engine, "m", 1, "premium_request")
    engine.balances.finalize(lock_id="m", action="confirm", override_value=-4)
    assert remaining(engine, "credits") == 100
    assert unapplied_of_last_event(engine) == 2
    assert engine.verify().ok


def test_a_negative_lock_confirmed_lower_refunds_the_difference(free: Allotment) -> None:
    """Autumn AD-2 (check-with-lock-additional-deduct.test.ts): track 10 (5 left), lock -5
    (10), confirm -8 -> 13: the 3 beyond the negative lock are refunded too."""
    free.track(customer_id="c", feature_id="msgs", value=10)
    lock(free, "l", -5)
    assert remaining(free) == 10
    free.balances.finalize(lock_id="l", action="confirm", override_value=-8)
    assert remaining(free) == 13
    assert event_values(free) == [-8, 10]
    assert free.verify().ok


def test_a_zero_lock_confirmed_below_zero_records_its_refund(free: Allotment) -> None:
    """Issue 10 item 8 for a lock of 0, which reserved nothing and wrote no event: the confirm
    at -3 records one event of -3 (named by its lock_id) and refunds by the same rules."""
    free.track(customer_id="c", feature_id="msgs", value=7)
    lock(free, "z", 0)
    free.balances.finalize(lock_id="z", action="confirm", override_value=-3)
    assert remaining(free) == 11
    newest = free.events.list(customer_id="c").list[0]
    assert (newest.value, newest.properties) == (-3, {"lock_id": "z"})
    assert free.verify().ok


def test_an_override_value_below_the_lower_bound_is_refused(free: Allotment) -> None:
    """Negative values are bounded like a track's value (|v| <= 10^12); nothing changes."""
    lock(free, "l", 4)
    with pytest.raises(AllotmentError) as error:
        free.balances.finalize(lock_id="l", action="confirm", override_value=-(10**13))
    assert error.value.code == "invalid_inputs" and "override_value" in str(error.value)
    assert remaining(free) == 11
    free.balances.finalize(lock_id="l", action="confirm", override_value=-1)
    assert remaining(free) == 15


def test_a_lock_that_lapses_is_unaffected(free: Allotment, clock: FakeClock) -> None:
    """A lapse still gives back the reservation only (it is a release, value 0)."""
    expires = to_ms(clock.now + timedelta(minutes=5))
    free.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=4,
        lock={"lock_id": "x", "enabled": True, "expires_at": expires},
    )
    clock.advance(minutes=5)
    assert remaining(free) == 15
    assert event_values(free) == [0]

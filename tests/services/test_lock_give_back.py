"""A lock's release and lower confirmation give back by the one rule a reversal follows
(`domain/give_back.py`): each grant at most up to its granted amount, and what that cap leaves
no room for is recorded as an `unrestored` entry of amount 0, with the units it covered, as a
reversal records it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from allotment import Allotment
from allotment.storage.tables import entries, events
from tests.conftest import FakeClock

START = datetime(2026, 1, 31, 12, tzinfo=UTC)
UNIT = 10**6


@pytest.fixture
def monthly(engine: Allotment, clock: FakeClock) -> Allotment:
    clock.set(START)
    engine.features.create(feature_id="msgs", name="Messages", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="monthly",
        name="Monthly",
        auto_enable=True,
        items=[{"feature_id": "msgs", "included": 10, "reset": {"interval": "month"}}],
    )
    engine.customers.get_or_create(customer_id="c")
    return engine


def lock(engine: Allotment, required: int) -> None:
    engine.check(
        customer_id="c",
        feature_id="msgs",
        required_balance=required,
        lock={"lock_id": "l", "enabled": True},
    )


def remaining(engine: Allotment) -> Any:
    return engine.customers.get(customer_id="c").balances["msgs"].remaining


def lock_ledger(engine: Allotment) -> list[tuple[str, float, float]]:
    with engine.database.engine.connect() as connection:
        lock_event = connection.scalar(select(events.c.id).order_by(events.c.id))
        rows = connection.execute(
            select(entries.c.kind, entries.c.amount, entries.c.units)
            .where(entries.c.event_id == lock_event)
            .order_by(entries.c.id)
        ).all()
    return [(kind, amount / UNIT, units / UNIT) for kind, amount, units in rows]


def test_a_release_onto_a_refilled_grant_records_what_found_no_room(monthly: Allotment) -> None:
    """Lock 8 (2 left), a refund of 5 (7 left), release: 3 fit under the granted 10, the other
    5 units are recorded as not restored."""
    lock(monthly, 8)
    monthly.track(customer_id="c", feature_id="msgs", value=-5)
    assert remaining(monthly) == 7
    monthly.balances.finalize(lock_id="l", action="release")
    assert remaining(monthly) == 10
    assert lock_ledger(monthly) == [
        ("usage", -8, 8),
        ("release", 3, -3),
        ("unrestored", 0, -5),
    ]
    assert monthly.verify().ok


def test_a_release_onto_a_full_grant_restores_nothing(monthly: Allotment) -> None:
    lock(monthly, 8)
    monthly.track(customer_id="c", feature_id="msgs", value=-8)
    monthly.balances.finalize(lock_id="l", action="release")
    assert remaining(monthly) == 10
    assert lock_ledger(monthly) == [("usage", -8, 8), ("unrestored", 0, -8)]


def test_a_lower_confirmation_counts_the_units_not_restored(monthly: Allotment) -> None:
    """Lock 8 (2 left), a refund of 6 (8 left), confirm 5: 3 units are to go back, 2 fit."""
    lock(monthly, 8)
    monthly.track(customer_id="c", feature_id="msgs", value=-6)
    monthly.balances.finalize(lock_id="l", action="confirm", override_value=5)
    assert remaining(monthly) == 10
    assert lock_ledger(monthly) == [
        ("usage", -8, 8),
        ("release", 2, -2),
        ("unrestored", 0, -1),
    ]
    assert monthly.verify().ok

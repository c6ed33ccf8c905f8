"""Lazy resets at exact boundaries, from the anchor, compare-and-set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from allotment import Allotment
from allotment.storage.tables import entries
from tests.catalogs import seed_catalog
from tests.conftest import FakeClock

MS = timedelta(milliseconds=1)


def remaining(engine: Allotment) -> object:
    return engine.customers.get(customer_id="u").balances["credits"].remaining


def reset_entries(engine: Allotment) -> int:
    with engine.database.engine.connect() as connection:
        query = select(func.count()).where(entries.c.kind == "reset")
        return int(connection.scalar(query) or 0)


def test_monthly_reset_at_the_exact_instant_with_month_end_clamping(
    engine: Allotment, clock: FakeClock
) -> None:
    anchor = datetime(2026, 1, 31, 12, tzinfo=UTC)
    clock.set(anchor)
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=10)
    assert remaining(engine) == 70
    boundaries = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in [(2, 28), (3, 31), (4, 30)]]
    for boundary in boundaries:
        clock.set(boundary - MS)
        assert remaining(engine) == 70
        assert engine.customers.get(customer_id="u").balances["credits"].next_reset_at == int(
            boundary.timestamp() * 1000
        )
        clock.set(boundary)
        assert remaining(engine) == 100
        engine.track(customer_id="u", feature_id="premium_request", value=10)
    assert reset_entries(engine) == 3
    assert engine.verify().ok


def test_missed_periods_fire_once_and_keep_the_anchor(engine: Allotment, clock: FakeClock) -> None:
    clock.set(datetime(2026, 1, 31, 12, tzinfo=UTC))
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=10)
    clock.set(datetime(2026, 7, 15, tzinfo=UTC))  # five boundaries passed unseen
    assert remaining(engine) == 100
    assert reset_entries(engine) == 1
    balance = engine.customers.get(customer_id="u").balances["credits"]
    assert balance.next_reset_at == int(datetime(2026, 7, 31, 12, tzinfo=UTC).timestamp() * 1000)
    assert remaining(engine) == 100
    assert reset_entries(engine) == 1


def test_two_engines_never_reset_twice(make_engine: object, clock: FakeClock) -> None:
    first: Allotment = make_engine()  # type: ignore[operator]
    second: Allotment = make_engine(migrate=False)  # type: ignore[operator]
    seed_catalog(first)
    first.customers.get_or_create(customer_id="u")
    first.track(customer_id="u", feature_id="premium_request", value=10)
    clock.advance(days=40)
    second.track(customer_id="u", feature_id="premium_request", value=1)
    first.track(customer_id="u", feature_id="premium_request", value=1)
    assert remaining(first) == 94
    assert reset_entries(first) == 1
    assert first.verify().ok


def test_lifetime_items_never_reset(engine: Allotment, clock: FakeClock) -> None:
    seed_catalog(engine)
    engine.plans.update(plan_id="pro", items=[{"feature_id": "credits", "included": 100}])
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=10)
    clock.advance(days=800)
    balance = engine.customers.get(customer_id="u").balances["credits"]
    assert (balance.remaining, balance.next_reset_at) == (70, None)
    # issue 10 item 1: Autumn shows a lifetime row as interval "one_off", resets_at null
    reset = balance.breakdown[0].reset
    assert reset is not None
    assert (reset.interval, reset.interval_count, reset.resets_at) == ("one_off", 1, None)


def test_a_read_that_finds_a_due_reset_applies_it(engine: Allotment, clock: FakeClock) -> None:
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=10)
    clock.advance(days=32)
    r = engine.check(customer_id="u", feature_id="premium_request", required_balance=1)
    assert r.balance is not None and r.balance.remaining == 100
    assert reset_entries(engine) == 1

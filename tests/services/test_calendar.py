"""Acceptance at the exact instants: monthly anchors on the 29th, 30th and 31st across 24
months including the leap February of 2028, quarterly and yearly cycles, and a yearly plan that
drips its credits monthly. Each boundary is checked 1 ms before (old balance, the boundary as
`next_reset_at`) and at the instant (fresh balance), moving time with the engine's clock and
with a customer's test clock."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from allotment import Allotment
from allotment.domain.clock import to_ms
from tests.catalogs import item, metered, plan
from tests.conftest import FakeClock

MS = timedelta(milliseconds=1)
Mover = Callable[[datetime], None]


def expected_boundary(anchor: datetime, months: int) -> datetime:
    """The anchor moved `months` calendar months on, its day clamped to the month's length."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return anchor.replace(
        year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1])
    )


def make_catalog(engine: Allotment, interval: str, price: dict[str, object] | None = None) -> None:
    metered(engine, "msg", name="Messages")
    plan(engine, "plan", item("msg", 100, reset=interval), auto_enable=True, price=price)
    engine.customers.get_or_create(customer_id="u")


def mover(kind: str, engine: Allotment, clock: FakeClock) -> Mover:
    if kind == "engine_clock":
        return clock.set

    def advance(moment: datetime) -> None:
        engine.customers.advance_test_clock(customer_id="u", frozen_time=to_ms(moment))

    return advance


def walk(engine: Allotment, move: Mover, boundaries: list[datetime]) -> None:
    engine.track(customer_id="u", feature_id="msg", value=7)
    for boundary in boundaries:
        move(boundary - MS)
        before = engine.customers.get(customer_id="u").balances["msg"]
        assert (before.remaining, before.next_reset_at) == (93, to_ms(boundary)), boundary
        move(boundary)
        after = engine.customers.get(customer_id="u").balances["msg"]
        assert after.remaining == 100, boundary
        engine.track(customer_id="u", feature_id="msg", value=7)
    assert engine.verify().ok


@pytest.mark.parametrize("kind", ["engine_clock", "test_clock"])
@pytest.mark.parametrize("day", [29, 30, 31])
def test_monthly_anchor_across_24_months(
    engine: Allotment, clock: FakeClock, day: int, kind: str
) -> None:
    anchor = datetime(2027, 1, day, 9, 30, tzinfo=UTC)
    clock.set(anchor)
    make_catalog(engine, "month")
    boundaries = [expected_boundary(anchor, k) for k in range(1, 25)]
    # the calendar, spelled out where it matters
    assert boundaries[0].day == 28  # Feb 2027
    assert boundaries[12].day == 29  # Feb 2028, a leap year
    assert boundaries[1].day == min(day, 31)  # back to the anchor day in March
    walk(engine, mover(kind, engine, clock), boundaries)


@pytest.mark.parametrize("kind", ["engine_clock", "test_clock"])
def test_quarterly_cycle(engine: Allotment, clock: FakeClock, kind: str) -> None:
    anchor = datetime(2027, 11, 30, 0, 0, tzinfo=UTC)
    clock.set(anchor)
    make_catalog(engine, "quarter")
    boundaries = [expected_boundary(anchor, 3 * k) for k in range(1, 9)]
    assert boundaries[:4] == [
        datetime(2028, 2, 29, tzinfo=UTC),
        datetime(2028, 5, 30, tzinfo=UTC),
        datetime(2028, 8, 30, tzinfo=UTC),
        datetime(2028, 11, 30, tzinfo=UTC),
    ]
    walk(engine, mover(kind, engine, clock), boundaries)


@pytest.mark.parametrize("kind", ["engine_clock", "test_clock"])
def test_yearly_cycle_from_a_leap_day(engine: Allotment, clock: FakeClock, kind: str) -> None:
    anchor = datetime(2028, 2, 29, 23, 59, 59, 999000, tzinfo=UTC)
    clock.set(anchor)
    make_catalog(engine, "year")
    boundaries = [expected_boundary(anchor, 12 * k) for k in range(1, 5)]
    assert [b.day for b in boundaries] == [28, 28, 28, 29]
    walk(engine, mover(kind, engine, clock), boundaries)


def test_yearly_plan_drips_credits_monthly(engine: Allotment, clock: FakeClock) -> None:
    anchor = datetime(2027, 1, 31, 12, tzinfo=UTC)
    clock.set(anchor)
    make_catalog(engine, "month", price={"amount": 1200, "interval": "year"})
    plan = engine.plans.get(plan_id="plan")
    assert plan.price == {"amount": 1200, "interval": "year", "interval_count": 1}
    # twelve monthly drips within the one billing year, each restoring the 100 credits
    walk(engine, clock.set, [expected_boundary(anchor, k) for k in range(1, 13)])

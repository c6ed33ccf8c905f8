from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from allotment.domain.intervals import (
    Interval,
    add_months,
    approximate_length,
    boundary,
    last_boundary_at_or_before,
)
from tests.domain.builders import utc


def test_month_end_anchor_clamps_without_drifting() -> None:
    anchor = utc(2026, 1, 31, 12)
    got = [boundary(anchor, Interval.MONTH, 1, k).date().isoformat() for k in range(1, 5)]
    assert got == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_leap_year_february() -> None:
    anchor = utc(2027, 12, 30)
    assert boundary(anchor, Interval.MONTH, 2, 1) == utc(2028, 2, 29)
    assert boundary(anchor, Interval.MONTH, 2, 2) == utc(2028, 4, 30)


def test_quarter_year_and_counts() -> None:
    anchor = utc(2026, 11, 30)
    assert boundary(anchor, Interval.QUARTER, 1, 1) == utc(2027, 2, 28)
    assert boundary(anchor, Interval.SEMI_ANNUAL, 1, 1) == utc(2027, 5, 30)
    assert boundary(anchor, Interval.YEAR, 1, 2) == utc(2028, 11, 30)
    assert boundary(anchor, Interval.WEEK, 2, 1) == utc(2026, 12, 14)
    assert boundary(anchor, Interval.MINUTE, 5, 3) == utc(2026, 11, 30, 0, 15)


def test_last_boundary_is_exact_at_the_instant() -> None:
    anchor = utc(2026, 1, 31, 12)
    feb = utc(2026, 2, 28, 12)
    assert last_boundary_at_or_before(anchor, Interval.MONTH, 1, feb) == 1
    just_before = feb.replace(microsecond=999000, second=59, minute=59, hour=11)
    assert last_boundary_at_or_before(anchor, Interval.MONTH, 1, just_before) == 0
    assert last_boundary_at_or_before(anchor, Interval.MONTH, 1, utc(2028, 3, 1)) == 25
    assert last_boundary_at_or_before(anchor, Interval.DAY, 1, utc(2026, 1, 31, 11)) == 0


def test_interval_names_months_and_fixed_lengths() -> None:
    assert [i.value for i in Interval] == [
        "minute",
        "hour",
        "day",
        "week",
        "month",
        "quarter",
        "semi_annual",
        "year",
    ]
    assert [i.months for i in Interval] == [0, 0, 0, 0, 1, 3, 6, 12]
    assert Interval.MINUTE.fixed_length == timedelta(minutes=1)
    assert Interval.HOUR.fixed_length == timedelta(hours=1)
    assert Interval.DAY.fixed_length == timedelta(days=1)
    assert Interval.WEEK.fixed_length == timedelta(days=7)
    assert Interval.MONTH.fixed_length is None
    assert Interval.YEAR.fixed_length is None


def test_rank_orders_shortest_first() -> None:
    assert [i.rank for i in Interval] == list(range(8))
    assert sorted(Interval, key=lambda i: i.rank)[0] is Interval.MINUTE
    assert Interval.WEEK.rank < Interval.MONTH.rank < Interval.YEAR.rank


def test_approximate_length_counts_a_month_as_30_days() -> None:
    assert approximate_length(Interval.HOUR, 3) == timedelta(hours=3)
    assert approximate_length(Interval.WEEK, 2) == timedelta(days=14)
    assert approximate_length(Interval.MONTH, 1) == timedelta(days=30)
    assert approximate_length(Interval.QUARTER, 2) == timedelta(days=180)  # 2 x 3 x 30
    assert approximate_length(Interval.SEMI_ANNUAL, 1) == timedelta(days=180)
    assert approximate_length(Interval.YEAR, 1) == timedelta(days=360)


def test_add_months_clamps_and_crosses_years() -> None:
    anchor = utc(2026, 1, 31, 9, 30)
    assert add_months(anchor, 0) == anchor
    assert add_months(anchor, 1) == utc(2026, 2, 28, 9, 30)
    assert add_months(anchor, 13) == utc(2027, 2, 28, 9, 30)
    assert add_months(anchor, 25) == utc(2028, 2, 29, 9, 30)  # leap year
    assert add_months(anchor, 11) == utc(2026, 12, 31, 9, 30)
    assert add_months(anchor, 12) == utc(2027, 1, 31, 9, 30)
    assert add_months(anchor, -2) == utc(2025, 11, 30, 9, 30)  # backwards: Nov has 30 days
    assert add_months(utc(2024, 2, 29), 12) == utc(2025, 2, 28)


def test_boundary_zero_is_the_anchor() -> None:
    anchor = utc(2026, 5, 17, 8, 15)
    for interval in Interval:
        assert boundary(anchor, interval, 3, 0) == anchor


def test_jan_31_anchor_lands_on_feb_28_then_back_on_the_31st() -> None:
    """Jan 31 2027 anchor -> Feb 28 2027, Mar 31 2027 (not Mar 28: counted from the anchor)."""
    anchor = utc(2027, 1, 31)
    assert boundary(anchor, Interval.MONTH, 1, 1) == utc(2027, 2, 28)
    assert boundary(anchor, Interval.MONTH, 1, 2) == utc(2027, 3, 31)
    assert boundary(anchor, Interval.MONTH, 1, 13) == utc(2028, 2, 29)


def test_last_boundary_before_or_at_the_anchor_is_zero() -> None:
    anchor = utc(2026, 3, 10)
    for interval in (Interval.DAY, Interval.MONTH):
        assert last_boundary_at_or_before(anchor, interval, 1, anchor) == 0
        assert last_boundary_at_or_before(anchor, interval, 1, utc(2020, 1, 1)) == 0


def test_last_boundary_of_fixed_intervals() -> None:
    anchor = utc(2026, 3, 10, 12)
    # 10 days and 1 hour (241 h) later: 10 whole days, 1 whole week, 120 whole 2-hour periods
    at = utc(2026, 3, 20, 13)
    assert last_boundary_at_or_before(anchor, Interval.DAY, 1, at) == 10
    assert last_boundary_at_or_before(anchor, Interval.WEEK, 1, at) == 1
    assert last_boundary_at_or_before(anchor, Interval.HOUR, 2, at) == 120
    # exactly on a boundary counts it
    assert last_boundary_at_or_before(anchor, Interval.DAY, 1, utc(2026, 3, 13, 12)) == 3


def test_last_boundary_of_multi_month_intervals() -> None:
    anchor = utc(2026, 8, 31)
    # quarterly from Aug 31: Nov 30, Feb 28 2027, May 31 2027
    assert last_boundary_at_or_before(anchor, Interval.QUARTER, 1, utc(2027, 2, 27)) == 1
    assert last_boundary_at_or_before(anchor, Interval.QUARTER, 1, utc(2027, 2, 28)) == 2
    assert last_boundary_at_or_before(anchor, Interval.QUARTER, 1, utc(2027, 5, 30)) == 2
    assert last_boundary_at_or_before(anchor, Interval.MONTH, 2, utc(2026, 10, 31)) == 1
    assert last_boundary_at_or_before(anchor, Interval.YEAR, 1, utc(2030, 8, 30)) == 3


anchors = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
intervals = st.sampled_from(list(Interval))
counts = st.integers(1, 13)


@given(anchors, intervals, counts, st.integers(0, 60))
def test_boundaries_strictly_increase(
    anchor: datetime, interval: Interval, count: int, k: int
) -> None:
    assert boundary(anchor, interval, count, k) < boundary(anchor, interval, count, k + 1)


@given(anchors, st.sampled_from([i for i in Interval if i.months]), counts, st.integers(0, 60))
def test_calendar_boundaries_stay_anchored(
    anchor: datetime, interval: Interval, count: int, k: int
) -> None:
    """Every boundary keeps the anchor's time of day and its day of the month, clamped to the
    month's last day when the month is shorter -- it never drifts."""
    at = boundary(anchor, interval, count, k)
    months = (at.year - anchor.year) * 12 + at.month - anchor.month
    assert months == interval.months * count * k
    assert at.day == min(anchor.day, calendar.monthrange(at.year, at.month)[1])
    assert at.timetz() == anchor.timetz()


@given(anchors, st.sampled_from([i for i in Interval if not i.months]), counts, st.integers(0, 500))
def test_fixed_boundaries_are_exact_multiples(
    anchor: datetime, interval: Interval, count: int, k: int
) -> None:
    fixed = interval.fixed_length
    assert fixed is not None
    assert boundary(anchor, interval, count, k) - anchor == fixed * count * k


@given(anchors, intervals, counts, st.timedeltas(timedelta(0), timedelta(days=3000)))
def test_last_boundary_brackets_the_instant(
    anchor: datetime, interval: Interval, count: int, later: timedelta
) -> None:
    at = anchor + later
    k = last_boundary_at_or_before(anchor, interval, count, at)
    assert boundary(anchor, interval, count, k) <= at < boundary(anchor, interval, count, k + 1)

"""Reset intervals and cycle boundaries.

A balance with a reset has a cycle *anchor* (the instant it was granted) and resets at the
boundaries `anchor + k * interval_count * interval` for k = 1, 2, ... (a loose grant given an
explicit first boundary, `next_reset_at`, is anchored there and resets at k = 0, 1, ...,
its `reset_index` starting at -1). Boundaries are always
computed from the anchor, never chained from the previous boundary, so month-end clamping never
drifts: a cycle anchored on Jan 31 resets on Feb 28 (29 in a leap year), Mar 31, Apr 30, ...
(Autumn without a payment-provider subscription chains, and drifts to the 28th; this is a
deliberate difference.)
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["Interval", "add_months", "boundary", "last_boundary_at_or_before"]


class Interval(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    SEMI_ANNUAL = "semi_annual"
    YEAR = "year"

    @property
    def months(self) -> int:
        return _MONTHS.get(self, 0)

    @property
    def fixed_length(self) -> timedelta | None:
        return _FIXED.get(self)

    @property
    def rank(self) -> int:
        """Order of lengths, shortest first (used by the deduction order)."""
        return _RANK[self]


_MONTHS = {Interval.MONTH: 1, Interval.QUARTER: 3, Interval.SEMI_ANNUAL: 6, Interval.YEAR: 12}
_FIXED = {
    Interval.MINUTE: timedelta(minutes=1),
    Interval.HOUR: timedelta(hours=1),
    Interval.DAY: timedelta(days=1),
    Interval.WEEK: timedelta(weeks=1),
}
_RANK = {interval: position for position, interval in enumerate(Interval)}


def approximate_length(interval: Interval, count: int) -> timedelta:
    """A comparable length (months count as 30 days); only for ordering, never for dates."""
    fixed = interval.fixed_length
    return fixed * count if fixed is not None else timedelta(days=30 * interval.months * count)


def add_months(anchor: datetime, months: int) -> datetime:
    month_index = anchor.month - 1 + months
    year = anchor.year + month_index // 12
    month = month_index % 12 + 1
    day = min(anchor.day, calendar.monthrange(year, month)[1])
    return anchor.replace(year=year, month=month, day=day)


def boundary(anchor: datetime, interval: Interval, count: int, k: int) -> datetime:
    """The k-th boundary after `anchor` (k = 0 is the anchor itself)."""
    fixed = interval.fixed_length
    if fixed is not None:
        return anchor + fixed * (count * k)
    return add_months(anchor, interval.months * count * k)


def _periods_before(anchor: datetime, interval: Interval, count: int, at: datetime) -> int:
    """A lower estimate of how many whole periods fit between anchor and `at`."""
    if at <= anchor:
        return 0
    fixed = interval.fixed_length
    if fixed is not None:
        return (at - anchor) // (fixed * count)
    months = (at.year - anchor.year) * 12 + (at.month - anchor.month)
    return max(months // (interval.months * count) - 1, 0)


def last_boundary_at_or_before(
    anchor: datetime, interval: Interval, count: int, at: datetime
) -> int:
    """The largest k with boundary(k) <= at (0 when `at` is before the first boundary)."""
    k = _periods_before(anchor, interval, count, at)
    while boundary(anchor, interval, count, k + 1) <= at:
        k += 1
    while k > 0 and boundary(anchor, interval, count, k) > at:
        k -= 1
    return k

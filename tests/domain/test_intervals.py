from __future__ import annotations

from datetime import UTC, datetime

from allotment.domain.intervals import Interval, boundary, last_boundary_at_or_before


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


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

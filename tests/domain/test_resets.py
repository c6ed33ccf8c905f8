"""Lazy resets: which reset is due at an instant, and where it leaves the grant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from allotment.domain.grants import Grant
from allotment.domain.intervals import Interval, boundary
from allotment.domain.resets import Reset, due_reset, first_reset_at
from tests.domain.builders import U, make_grant, monthly_grant, utc

MS = timedelta(milliseconds=1)
JAN_31 = utc(2027, 1, 31, 12)


def attached(grant: Grant) -> Grant:
    """The grant as the services store it: `next_reset_at` is its first boundary."""
    return replace(grant, next_reset_at=first_reset_at(grant))


def test_first_reset_is_one_interval_after_the_anchor() -> None:
    assert first_reset_at(monthly_grant(JAN_31, 10 * U)) == utc(2027, 2, 28, 12)
    weekly = make_grant(interval=Interval.WEEK, interval_count=2, anchor_at=JAN_31)
    assert first_reset_at(weekly) == utc(2027, 2, 14, 12)


def test_lifetime_unlimited_and_unanchored_grants_never_reset() -> None:
    assert first_reset_at(make_grant()) is None  # no interval: lifetime
    assert first_reset_at(monthly_grant(JAN_31, 0, unlimited=True)) is None
    assert first_reset_at(make_grant(interval=Interval.MONTH)) is None  # no anchor


def test_nothing_is_due_before_the_boundary() -> None:
    grant = attached(monthly_grant(JAN_31, 10 * U, 4 * U))
    assert due_reset(grant, utc(2027, 2, 28, 12) - MS) is None
    assert due_reset(make_grant(balance=3 * U, granted=10 * U), utc(2030, 1, 1)) is None


def test_reset_is_due_at_the_boundary_instant() -> None:
    grant = attached(monthly_grant(JAN_31, 10 * U, 4 * U, reset_index=0))
    reset = due_reset(grant, utc(2027, 2, 28, 12))
    assert reset == Reset(
        before=grant,
        after=replace(grant, balance=10 * U, reset_index=1, next_reset_at=utc(2027, 3, 31, 12)),
        boundary_at=utc(2027, 2, 28, 12),
    )
    assert reset.amount == 6 * U  # 10 granted - 4 left


def test_jan_31_anchor_resets_on_feb_28_then_mar_31() -> None:
    """Jan 31 2027 anchor -> Feb 28 2027, Mar 31 2027, Apr 30 2027: never drifting to the 28th."""
    grant = attached(monthly_grant(JAN_31, 10 * U, 0))
    first = due_reset(grant, utc(2027, 3, 15))
    assert first is not None
    assert first.boundary_at == utc(2027, 2, 28, 12)
    assert first.after.next_reset_at == utc(2027, 3, 31, 12)
    second = due_reset(first.after, utc(2027, 3, 31, 12))
    assert second is not None
    assert second.boundary_at == utc(2027, 3, 31, 12)
    assert second.after.next_reset_at == utc(2027, 4, 30, 12)
    assert second.after.reset_index == 2


def test_a_loose_grant_first_resets_at_its_anchor() -> None:
    """Created with next_reset_at Mar 31 2027: anchor = Mar 31, reset_index -1. The first
    reset is boundary 0 (Mar 31 itself), then Apr 30, May 31."""
    anchor = utc(2027, 3, 31)
    grant = monthly_grant(anchor, 10 * U, 1 * U, reset_index=-1, next_reset_at=anchor)
    assert due_reset(grant, anchor - MS) is None
    reset = due_reset(grant, anchor)
    assert reset is not None
    assert (reset.boundary_at, reset.after.reset_index) == (anchor, 0)
    assert reset.after.next_reset_at == utc(2027, 4, 30)
    later = due_reset(grant, utc(2027, 6, 1))
    assert later is not None
    assert (later.boundary_at, later.after.reset_index) == (utc(2027, 5, 31), 2)
    assert later.after.next_reset_at == utc(2027, 6, 30)


def test_missed_periods_reset_once_at_the_last_boundary() -> None:
    """Boundaries Feb 28, Mar 31, Apr 30, May 31 passed unseen by Jun 10: one reset, dated
    May 31, the 4th boundary; the next one is Jun 30."""
    grant = attached(monthly_grant(JAN_31, 10 * U, 2 * U))
    reset = due_reset(grant, utc(2027, 6, 10))
    assert reset is not None
    assert reset.boundary_at == utc(2027, 5, 31, 12)
    assert reset.after.reset_index == 4
    assert reset.after.next_reset_at == utc(2027, 6, 30, 12)
    assert reset.after.balance == 10 * U
    assert reset.amount == 8 * U


def test_a_balance_above_granted_comes_down_to_it() -> None:
    grant = attached(monthly_grant(JAN_31, 10 * U, 15 * U))  # e.g. after add_to_balance
    reset = due_reset(grant, utc(2027, 3, 1))
    assert reset is not None
    assert reset.amount == -5 * U
    assert reset.after.balance == 10 * U


def test_a_drained_pay_per_use_balance_comes_back_up() -> None:
    grant = attached(monthly_grant(JAN_31, 10 * U, -3 * U, usage_allowed=True, floor=None))
    reset = due_reset(grant, utc(2027, 3, 1))
    assert reset is not None
    assert reset.amount == 13 * U


def test_a_reset_without_interval_or_anchor_is_never_applied() -> None:
    due = utc(2027, 2, 1)
    no_interval = make_grant(anchor_at=JAN_31, next_reset_at=due)
    no_anchor = make_grant(interval=Interval.MONTH, next_reset_at=due)
    assert due_reset(no_interval, utc(2027, 3, 1)) is None
    assert due_reset(no_anchor, utc(2027, 3, 1)) is None


def test_the_reset_keeps_everything_but_balance_index_and_next_reset() -> None:
    grant = attached(
        monthly_grant(
            JAN_31, 10 * U, 1 * U, id=7, plan_id="pro", add_on=True, interval_count=2, floor=-5
        )
    )
    reset = due_reset(grant, utc(2027, 4, 1))
    assert reset is not None
    assert reset.after == replace(
        grant, balance=10 * U, reset_index=1, next_reset_at=utc(2027, 5, 31, 12)
    )


anchors = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@given(
    anchors,
    st.sampled_from([i for i in Interval if i is not Interval.MINUTE]),
    st.integers(1, 4),
    st.timedeltas(timedelta(0), timedelta(days=2000)),
    st.integers(-5, 20),
)
def test_due_reset_brackets_now_between_two_anchored_boundaries(
    anchor: datetime, interval: Interval, count: int, after_first: timedelta, balance: int
) -> None:
    grant = attached(
        make_grant(
            balance=balance * U,
            granted=10 * U,
            interval=interval,
            interval_count=count,
            anchor_at=anchor,
        )
    )
    assert grant.next_reset_at is not None
    now = grant.next_reset_at + after_first
    reset = due_reset(grant, now)
    assert reset is not None
    k = reset.after.reset_index
    assert k >= 1
    assert reset.boundary_at == boundary(anchor, interval, count, k)
    assert reset.after.next_reset_at == boundary(anchor, interval, count, k + 1)
    assert reset.boundary_at <= now < reset.after.next_reset_at
    assert reset.after.balance == 10 * U
    assert reset.amount == (10 - balance) * U
    assert due_reset(reset.after, now) is None  # never fires twice for one period
    again = due_reset(reset.after, reset.after.next_reset_at)
    assert again is not None
    assert again.after.reset_index == k + 1

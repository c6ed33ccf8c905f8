"""Grants: derived amounts, the give-back rule, and the deduction order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from allotment.domain.grants import Grant, deduction_sort_key
from allotment.domain.intervals import Interval, boundary
from tests.domain.builders import U, make_grant, monthly_grant, utc

MS = timedelta(milliseconds=1)
JAN_31 = utc(2027, 1, 31, 12)
T0 = utc(2026, 1, 1)


def test_usage_is_granted_minus_balance() -> None:
    assert make_grant(balance=3 * U, granted=10 * U).usage == 7 * U
    assert make_grant(balance=12 * U, granted=10 * U).usage == -2 * U  # topped up
    assert make_grant(balance=-4 * U, granted=10 * U, usage_allowed=True).usage == 14 * U


def test_remaining_never_goes_below_zero() -> None:
    assert make_grant(balance=3 * U, granted=10 * U).remaining == 3 * U
    assert make_grant(balance=-4 * U, granted=10 * U).remaining == 0


def test_unlimited_counts_usage_as_a_negative_balance() -> None:
    unlimited = make_grant(balance=-7 * U, granted=0, unlimited=True)
    assert unlimited.remaining == 0
    assert unlimited.usage == 7 * U


def test_rollover_grants_name_their_source() -> None:
    assert not make_grant().is_rollover
    assert make_grant(source_grant_id=3).is_rollover


def test_with_balance_returns_a_new_grant() -> None:
    grant = make_grant(balance=5 * U, granted=10 * U, plan_id="pro")
    changed = grant.with_balance(2 * U)
    assert changed == make_grant(balance=2 * U, granted=10 * U, plan_id="pro")
    assert grant.balance == 5 * U


def test_a_grant_without_a_passed_boundary_takes_everything_back() -> None:
    lifetime = make_grant(balance=0, granted=10 * U)
    assert lifetime.takes_back(utc(2000, 1, 1))
    assert make_grant(interval=Interval.MONTH, reset_index=3).takes_back(T0)  # no anchor
    assert make_grant(source_grant_id=1, expires_at=JAN_31).takes_back(T0)  # a rollover piece
    # a loose grant created with next_reset_at: anchored there, reset_index -1 until it passes
    before_first = monthly_grant(JAN_31, 10 * U, reset_index=-1)
    assert before_first.takes_back(JAN_31 - timedelta(days=400))


def test_the_first_cycle_begins_at_the_anchor() -> None:
    first_cycle = monthly_grant(JAN_31, 10 * U, reset_index=0)
    assert first_cycle.takes_back(JAN_31)
    assert first_cycle.takes_back(utc(2027, 2, 28, 11, 59))
    assert not first_cycle.takes_back(JAN_31 - MS)


def test_takes_back_only_what_was_paid_in_the_current_cycle() -> None:
    """Anchor Jan 31 2027 12:00, one reset applied: the cycle began Feb 28 2027 12:00."""
    grant = monthly_grant(JAN_31, 10 * U, reset_index=1)
    started = utc(2027, 2, 28, 12)
    assert not grant.takes_back(started - MS)
    assert grant.takes_back(started)  # paid at the boundary: already the new cycle
    assert grant.takes_back(utc(2027, 3, 30))


def test_takes_back_after_several_resets() -> None:
    """Anchor Jan 31 2027, every 2 months, two resets: cycles began Mar 31 and May 31 2027."""
    grant = monthly_grant(JAN_31, 10 * U, interval_count=2, reset_index=2)
    assert not grant.takes_back(utc(2027, 4, 15))  # in the cycle that began Mar 31
    assert not grant.takes_back(utc(2027, 5, 31, 11, 59))
    assert grant.takes_back(utc(2027, 5, 31, 12))


@given(
    st.sampled_from([Interval.DAY, Interval.WEEK, Interval.MONTH, Interval.YEAR]),
    st.integers(1, 3),
    st.integers(1, 40),
    st.timedeltas(-timedelta(days=400), timedelta(days=400)),
)
def test_takes_back_iff_paid_at_or_after_the_cycle_start(
    interval: Interval, count: int, reset_index: int, offset: timedelta
) -> None:
    grant = make_grant(
        interval=interval, interval_count=count, anchor_at=JAN_31, reset_index=reset_index
    )
    started = boundary(JAN_31, interval, count, reset_index)
    assert grant.takes_back(started + offset) is (offset >= timedelta(0))


def order(*rows: tuple[Grant, bool], entity: int | None = None) -> list[int]:
    ranked = sorted(rows, key=lambda row: deduction_sort_key(row[0], row[1], entity))
    return [grant.id for grant, _ in ranked]


def test_rollovers_come_first_soonest_expiry_first_even_from_a_pool() -> None:
    main = make_grant(1, created_at=T0)
    later_piece = make_grant(2, source_grant_id=9, expires_at=utc(2026, 3, 1))
    sooner_piece = make_grant(3, source_grant_id=9, expires_at=utc(2026, 2, 1))
    forever_piece = make_grant(4, source_grant_id=9)
    assert order(
        (main, False), (forever_piece, True), (later_piece, True), (sooner_piece, True)
    ) == [3, 2, 4, 1]


def test_own_balances_before_pools_and_unlimited_first() -> None:
    pool_unlimited = make_grant(1, 0, unlimited=True)
    own_limited = make_grant(2)
    own_unlimited = make_grant(3, 0, unlimited=True)
    assert order((pool_unlimited, True), (own_limited, False), (own_unlimited, False)) == [3, 2, 1]


def test_resetting_rows_before_lifetime_and_shorter_interval_first() -> None:
    lifetime = make_grant(1)
    yearly = make_grant(2, interval=Interval.YEAR)
    two_weeks = make_grant(3, interval=Interval.WEEK, interval_count=2)
    monthly = make_grant(4, interval=Interval.MONTH)  # 30 days: after 14 days
    assert order((lifetime, False), (yearly, False), (two_weeks, False), (monthly, False)) == [
        3,
        4,
        2,
        1,
    ]


def test_sooner_expiry_then_main_plan_then_prepaid_then_oldest_then_id() -> None:
    never = make_grant(1, created_at=T0)
    expiring = make_grant(2, expires_at=utc(2026, 6, 1), created_at=T0)
    assert order((never, False), (expiring, False)) == [2, 1]

    add_on = make_grant(3, add_on=True)
    main = make_grant(4)
    assert order((add_on, False), (main, False)) == [4, 3]

    pay_per_use = make_grant(5, usage_allowed=True)
    prepaid = make_grant(6)
    assert order((pay_per_use, False), (prepaid, False)) == [6, 5]

    newer = make_grant(7, created_at=utc(2026, 2, 1))
    older = make_grant(8, created_at=T0)
    undated = make_grant(9)  # no created_at: counts as the oldest
    assert order((newer, False), (older, False), (undated, False)) == [9, 8, 7]

    assert order((make_grant(11), False), (make_grant(10), False)) == [10, 11]


def test_the_named_entity_rows_come_before_the_customer_rows() -> None:
    customer_row = make_grant(1)
    entity_row = make_grant(2, entity_internal_id=5)
    assert order((customer_row, False), (entity_row, False)) == [1, 2]
    assert order((customer_row, False), (entity_row, False), entity=5) == [2, 1]
    # even a pool row of the entity comes before the customer's own feature row
    assert order((customer_row, False), (make_grant(3, entity_internal_id=5), True), entity=5) == [
        3,
        1,
    ]


def test_the_entity_preference_outranks_rollovers() -> None:
    customer_piece = make_grant(1, source_grant_id=9, expires_at=utc(2026, 2, 1))
    entity_row = make_grant(2, entity_internal_id=5)
    assert order((customer_piece, False), (entity_row, False), entity=5) == [2, 1]


grants = st.builds(
    Grant,
    id=st.integers(1, 10**6),
    customer_internal_id=st.just(1),
    feature_id=st.just("f"),
    granted=st.integers(0, 100),
    balance=st.integers(-100, 100),
    unlimited=st.booleans(),
    interval=st.none() | st.sampled_from(list(Interval)),
    interval_count=st.integers(1, 3),
    expires_at=st.none()
    | st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    add_on=st.booleans(),
    usage_allowed=st.booleans(),
    created_at=st.none()
    | st.datetimes(datetime(2025, 1, 1), datetime(2026, 1, 1), timezones=st.just(UTC)),
    entity_internal_id=st.none() | st.integers(1, 2),
    source_grant_id=st.none() | st.integers(1, 3),
)


@given(st.lists(st.tuples(grants, st.booleans()), max_size=8, unique_by=lambda r: r[0].id))
def test_the_order_is_total_and_puts_rollovers_ahead(rows: list[tuple[Grant, bool]]) -> None:
    """Keys never tie for distinct grants, and within the customer's rows every rollover
    comes before every other row."""
    keys = [deduction_sort_key(grant, is_pool) for grant, is_pool in rows]
    assert len(set(keys)) == len(keys)
    ranked = [grant for grant, _ in sorted(rows, key=lambda r: deduction_sort_key(r[0], r[1]))]
    customer = [g for g in ranked if g.entity_internal_id is None]
    flags = [g.is_rollover for g in customer]
    assert flags == sorted(flags, reverse=True)

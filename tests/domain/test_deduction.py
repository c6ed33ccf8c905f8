"""The deduction and refund plans, on plain grants (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from allotment import AllotmentError
from allotment.domain.deduction import Candidate, OverageBehavior, plan_deduction, plan_refund
from allotment.domain.grants import Grant, deduction_sort_key
from allotment.domain.intervals import Interval

U = 10**6
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def grant(gid: int, balance: int, **kw: object) -> Grant:
    kw.setdefault("granted", balance)
    return Grant(id=gid, customer_internal_id=1, feature_id="f", balance=balance, **kw)  # type: ignore[arg-type]


def own(g: Grant) -> Candidate:
    return Candidate(g, U, False)


def test_pass_one_takes_rows_down_to_zero_in_order() -> None:
    a, b = grant(1, 5 * U), grant(2, 10 * U)
    changes, unapplied = plan_deduction([own(a), own(b)], 7 * U, OverageBehavior.CAP)
    assert [(c.candidate.grant.id, c.credits) for c in changes] == [(1, 5 * U), (2, 2 * U)]
    assert unapplied == 0


def test_cap_drops_the_rest_and_reject_refuses() -> None:
    a = grant(1, 5 * U)
    changes, unapplied = plan_deduction([own(a)], 7 * U, OverageBehavior.CAP)
    assert [c.credits for c in changes] == [5 * U]
    assert unapplied == 2 * U
    with pytest.raises(AllotmentError) as caught:
        plan_deduction([own(a)], 7 * U, OverageBehavior.REJECT)
    assert caught.value.code == "insufficient_balance"


def test_overflow_puts_the_rest_on_the_first_row() -> None:
    a, b = grant(1, 5 * U), grant(2, 1 * U)
    changes, unapplied = plan_deduction([own(a), own(b)], 9 * U, OverageBehavior.OVERFLOW)
    assert {c.candidate.grant.id: c.credits for c in changes} == {1: 8 * U, 2: 1 * U}
    assert unapplied == 0


def test_pool_partly_covering_passes_the_rest_on() -> None:
    direct = own(grant(1, 2 * U))
    pool = Candidate(grant(2, 30 * U), 3 * U, True)
    changes, _ = plan_deduction([direct, pool], 6 * U, OverageBehavior.CAP)
    assert [(c.credits, c.units) for c in changes] == [(2 * U, 2 * U), (12 * U, 4 * U)]


def test_non_terminating_units_are_rounded_but_credits_exact() -> None:
    first = Candidate(grant(1, 1 * U), 3 * U, True)  # 1 credit covers 1/3 unit
    second = Candidate(grant(2, 100 * U), 3 * U, True)
    changes, _ = plan_deduction([first, second], 1 * U, OverageBehavior.CAP)
    assert [c.credits for c in changes] == [1 * U, 2 * U]
    assert [c.units for c in changes] == [333_333, 666_667]


def test_unlimited_is_an_infinite_sink() -> None:
    sink = own(grant(1, 0, unlimited=True, granted=0))
    other = own(grant(2, 5 * U))
    changes, _ = plan_deduction([sink, other], 50 * U, OverageBehavior.REJECT)
    assert [(c.candidate.grant.id, c.credits) for c in changes] == [(1, 50 * U)]


def test_pay_per_use_rows_go_to_their_floor_in_pass_two() -> None:
    prepaid = own(grant(1, 2 * U))
    payg = own(grant(2, 1 * U, usage_allowed=True, floor=-3 * U))
    changes, unapplied = plan_deduction([prepaid, payg], 10 * U, OverageBehavior.CAP)
    assert {c.candidate.grant.id: c.credits for c in changes} == {1: 2 * U, 2: 4 * U}
    assert unapplied == 4 * U


def test_continuous_use_goes_past_its_grant_under_cap_only() -> None:
    seats = Candidate(grant(1, 5 * U), U, False, continuous=True)
    changes, unapplied = plan_deduction([seats], 8 * U, OverageBehavior.CAP)
    assert [c.credits for c in changes] == [8 * U]
    assert unapplied == 0
    with pytest.raises(AllotmentError):
        plan_deduction([seats], 8 * U, OverageBehavior.REJECT)


def test_refund_refills_in_reverse_order_never_above_granted() -> None:
    a = own(grant(1, 0, granted=5 * U))
    b = own(grant(2, 8 * U, granted=10 * U))
    refills, unapplied = plan_refund([a, b], 9 * U)
    assert [(c.candidate.grant.id, c.credits) for c in refills] == [(2, -2 * U), (1, -5 * U)]
    assert unapplied == 2 * U


def test_deduction_order_keys() -> None:
    monthly = grant(1, U, interval=Interval.MONTH, next_reset_at=T0, created_at=T0)
    daily = grant(2, U, interval=Interval.DAY, next_reset_at=T0, created_at=T0)
    lifetime = grant(3, U, created_at=T0)
    addon = grant(4, U, interval=Interval.DAY, next_reset_at=T0, add_on=True, created_at=T0)
    unlimited = grant(5, 0, unlimited=True, created_at=T0)
    order = sorted(
        [
            (monthly, False),
            (daily, False),
            (lifetime, False),
            (addon, False),
            (unlimited, False),
            (grant(6, U), True),
        ],
        key=lambda pair: deduction_sort_key(*pair),
    )
    assert [g.id for g, _ in order] == [5, 2, 4, 1, 3, 6]

"""Properties of the deduction arithmetic, over random grants, costs and values."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allotment import AllotmentError
from allotment.domain.deduction import (
    Candidate,
    OverageBehavior,
    _plan_in_passes,
    plan_deduction,
    plan_refund,
)
from allotment.domain.grants import Grant

U = 10**6

costs = st.sampled_from([U, 3 * U, U // 100, U // 2, 7 * U // 4])


@st.composite
def candidate_lists(draw: st.DrawFn) -> list[Candidate]:
    size = draw(st.integers(1, 5))
    found = []
    for gid in range(1, size + 1):
        granted = draw(st.integers(0, 1000)) * U // 100
        balance = draw(st.integers(0, granted)) if granted else 0
        grant = Grant(
            id=gid, customer_internal_id=1, feature_id=f"f{gid}", granted=granted, balance=balance
        )
        found.append(Candidate(grant, draw(costs), gid > 1))
    return found


values = st.integers(1, 50_000).map(lambda cents: cents * U // 100)


@given(candidate_lists(), values)
def test_cap_never_goes_below_zero_and_accounts_for_every_unit(
    candidates: list[Candidate], value: int
) -> None:
    changes, unapplied = plan_deduction(candidates, value, OverageBehavior.CAP)
    by_id = {c.grant.id: c for c in candidates}
    covered = 0
    for change in changes:
        grant = by_id[change.candidate.grant.id].grant
        assert 0 < change.credits <= grant.balance
        covered += change.units
    # units covered plus units dropped is the value, up to the half-even rounding of each row
    assert abs(covered + unapplied - value) <= len(changes)
    if unapplied:
        assert all(
            c.grant.balance == sum(x.credits for x in changes if x.candidate.grant.id == c.grant.id)
            for c in candidates
        )


@given(candidate_lists(), values)
def test_reject_is_all_or_nothing(candidates: list[Candidate], value: int) -> None:
    capacity = sum(Fraction(c.grant.balance * U, c.cost) for c in candidates)
    try:
        changes, unapplied = plan_deduction(candidates, value, OverageBehavior.REJECT)
    except AllotmentError as error:
        assert error.code == "insufficient_balance"
        assert capacity < value
        return
    assert unapplied == 0
    assert capacity >= value - len(candidates)
    assert all(c.credits <= c.candidate.grant.balance for c in changes)


@given(candidate_lists(), values)
def test_refund_never_fills_above_granted(candidates: list[Candidate], value: int) -> None:
    refills, unapplied = plan_refund(candidates, value)
    room = {c.grant.id: c.grant.granted - c.grant.balance for c in candidates}
    for refill in refills:
        assert 0 < -refill.credits <= room[refill.candidate.grant.id]
    assert unapplied >= 0
    if unapplied:
        assert sum(-r.credits for r in refills) == sum(room.values())


@given(candidate_lists(), values)
def test_deduct_then_refund_restores_every_balance(candidates: list[Candidate], value: int) -> None:
    changes, _ = plan_deduction(candidates, value, OverageBehavior.CAP)
    taken = {c.candidate.grant.id: c.credits for c in changes}
    after = [
        Candidate(
            c.grant.with_balance(c.grant.balance - taken.get(c.grant.id, 0)), c.cost, c.is_pool
        )
        for c in candidates
    ]
    refills, _ = plan_refund(after, sum(c.units for c in changes))
    back = {r.candidate.grant.id: -r.credits for r in refills}
    for c in after:
        assert c.grant.balance + back.get(c.grant.id, 0) <= c.grant.granted


@given(candidate_lists(), values, st.sampled_from(list(OverageBehavior)))
def test_the_first_row_shortcut_plans_what_the_passes_plan(
    candidates: list[Candidate], value: int, behavior: OverageBehavior
) -> None:
    """plan_deduction answers the common case (the first row pays it all) in integers; it
    must plan exactly what the two passes plan."""
    try:
        expected = _plan_in_passes(candidates, value, behavior)
    except AllotmentError as error:
        with pytest.raises(AllotmentError) as raised:
            plan_deduction(candidates, value, behavior)
        assert raised.value.code == error.code
        return
    assert plan_deduction(candidates, value, behavior) == expected

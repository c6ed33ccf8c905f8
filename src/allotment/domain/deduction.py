"""How a track of `value` units of a feature is spread over the grants that can pay for it.

Candidates are the feature's own grants (cost one credit per unit) and the grants of every
credit system containing the feature (cost `credit_cost` per unit), in deduction order.

* Pass 1 takes each row down to 0. An unlimited row is an infinite sink and takes the rest.
* Pass 2 lets pay-per-use rows go below 0, down to their floor.
* What is left is then handled by the overage behaviour: `reject` refuses the whole track,
  `overflow` puts it on the first candidate regardless of floors, `cap` drops it — except that
  a continuous-use (non-consumable) feature's own first grant counts the whole allocation and
  goes below 0 (usage 8 of 5 seats).

A negative value is a refund: rows are refilled in reverse deduction order, never above their
granted amount; what does not fit is not applied.

All arithmetic is on fixed-point integers; units covered by a partly-paying pool are an exact
fraction until the end, and credits are whole fixed-point units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from allotment.domain.amounts import SCALE
from allotment.domain.catalog import Feature, FeatureType
from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.domain.grants import Grant, deduction_sort_key

__all__ = [
    "Candidate",
    "Deduction",
    "OverageBehavior",
    "candidates_for",
    "plan_deduction",
    "plan_refund",
]


class OverageBehavior(StrEnum):
    CAP = "cap"
    OVERFLOW = "overflow"
    REJECT = "reject"


@dataclass(frozen=True)
class Candidate:
    grant: Grant
    cost: int  # fixed-point credits per one unit of the tracked feature (SCALE for own rows)
    is_pool: bool
    continuous: bool = False


def candidates_for(
    feature: Feature,
    pools: Sequence[Feature],
    grants: Sequence[Grant],
    preferred_entity_id: int | None = None,
) -> list[Candidate]:
    """Every grant of `grants` that can pay for `feature`, in deduction order: its own grants
    (one credit per unit) and the grants of the credit systems in `pools` that contain it
    (`credit_cost` per unit; the first pool naming a pool feature sets its cost). The grants
    of the entity `preferred_entity_id` come first (None: the customer's own)."""
    costs = {feature.feature_id: SCALE}
    for pool in pools:
        cost = pool.cost_of(feature.feature_id)
        if cost is not None:
            costs.setdefault(pool.feature_id, cost)
    continuous = feature.type is FeatureType.METERED and not feature.consumable
    found = [
        Candidate(g, costs[g.feature_id], g.feature_id != feature.feature_id, continuous)
        for g in grants
        if g.feature_id in costs
    ]
    return sorted(found, key=lambda c: deduction_sort_key(c.grant, c.is_pool, preferred_entity_id))


@dataclass(frozen=True)
class Deduction:
    """`credits` fixed-point units taken from (negative: returned to) one grant, covering
    `units` fixed-point units of the tracked feature."""

    candidate: Candidate
    credits: int
    units: int


def _credits_for(units: Fraction, cost: int) -> int:
    return round(Fraction(units.numerator * cost, units.denominator * SCALE))


def _units_for(credits: int, cost: int) -> Fraction:
    return Fraction(credits * SCALE, cost)


class _Tally:
    """Credits taken from each grant, and the exact units of the feature they cover."""

    def __init__(self) -> None:
        self.credits: dict[int, int] = {}
        self.units: dict[int, Fraction] = {}

    def add(self, grant_id: int, credits: int, units: Fraction) -> None:
        self.credits[grant_id] = self.credits.get(grant_id, 0) + credits
        self.units[grant_id] = self.units.get(grant_id, Fraction(0)) + units


def _take(
    candidates: Sequence[Candidate], remaining: Fraction, tally: _Tally, pass_two: bool
) -> Fraction:
    for candidate in candidates:
        if remaining <= 0:
            break
        grant = candidate.grant
        balance = grant.balance - tally.credits.get(grant.id, 0)
        need = _credits_for(remaining, candidate.cost)
        if grant.unlimited:
            tally.add(grant.id, need, remaining)
            return Fraction(0)
        if pass_two:
            if not grant.usage_allowed:
                continue
            floor = grant.floor
            available = need if floor is None else max(balance - floor, 0)
        else:
            available = max(balance, 0)
        credits = min(available, need)
        if credits <= 0:
            continue
        # the row that finishes the value covers exactly what was left (its credits rounded
        # half-even to the scale); a row that runs dry covers what its credits buy
        units = remaining if credits == need else _units_for(credits, candidate.cost)
        tally.add(grant.id, credits, units)
        remaining -= units
    return max(remaining, Fraction(0))


def absorber(candidates: Sequence[Candidate], behavior: OverageBehavior) -> Candidate | None:
    if behavior is OverageBehavior.OVERFLOW:
        return candidates[0] if candidates else None
    return next((c for c in candidates if c.continuous and not c.is_pool), None)


def plan_deduction(
    candidates: Sequence[Candidate], value_units: int, behavior: OverageBehavior
) -> tuple[list[Deduction], int]:
    """Spread `value_units` (> 0) over `candidates` (already in deduction order).

    Returns the deductions and the fixed-point units that could not be applied (cap only).
    Raises `insufficient_balance` under `reject` when the whole value does not fit."""
    first = candidates[0] if candidates else None
    if first is not None and value_units * first.cost % SCALE == 0:
        # the common case in integers: the first row pays it all (what pass 1 finds then)
        need = value_units * first.cost // SCALE
        if need > 0 and (first.grant.unlimited or first.grant.balance >= need):
            return [Deduction(first, need, value_units)], 0
    return _plan_in_passes(candidates, value_units, behavior)


def _plan_in_passes(
    candidates: Sequence[Candidate], value_units: int, behavior: OverageBehavior
) -> tuple[list[Deduction], int]:
    tally = _Tally()
    remaining = _take(candidates, Fraction(value_units), tally, pass_two=False)
    if remaining > 0:
        remaining = _take(candidates, remaining, tally, pass_two=True)
    if remaining > 0:
        if behavior is OverageBehavior.REJECT:
            raise AllotmentError(
                ErrorCode.INSUFFICIENT_BALANCE, "insufficient balance for this feature"
            )
        absorber_ = absorber(candidates, behavior)
        if absorber_ is not None:
            tally.add(absorber_.grant.id, _credits_for(remaining, absorber_.cost), remaining)
            remaining = Fraction(0)
    deductions = [
        Deduction(c, tally.credits[c.grant.id], round(tally.units[c.grant.id]))
        for c in candidates
        if tally.credits.get(c.grant.id)
    ]
    return deductions, round(remaining)


def plan_refund(candidates: Sequence[Candidate], value_units: int) -> tuple[list[Deduction], int]:
    """Return `value_units` (> 0) to the candidates in reverse deduction order, each at most up
    to its granted amount. Returns the refills (negative credits) and the units left over."""
    remaining = Fraction(value_units)
    refills: list[Deduction] = []
    for candidate in reversed(candidates):
        if remaining <= 0:
            break
        grant = candidate.grant
        room = grant.granted - grant.balance
        if room <= 0:
            continue
        need = _credits_for(remaining, candidate.cost)
        credits = min(room, need)
        if credits <= 0:
            continue
        units = remaining if credits == need else _units_for(credits, candidate.cost)
        remaining = remaining - units
        refills.append(Deduction(candidate, -credits, -round(units)))
    return refills, round(max(remaining, Fraction(0)))

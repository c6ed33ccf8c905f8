"""Balance views and the check rule.

A customer's balance of a feature is the sum of its grants of that feature. `check` of a
metered feature answers from one source: the feature's own balance if it suffices, else a
credit pool the customer has that suffices, else the first pool the customer has, else the own
balance (Autumn's `getFeatureToUseForCheck`). `required_balance` is converted to credits when a
pool answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from allotment.domain.amounts import SCALE
from allotment.domain.catalog import Feature
from allotment.domain.grants import Grant

__all__ = ["BalanceView", "Resolution", "allows", "resolve_check"]


@dataclass(frozen=True)
class BalanceView:
    feature_id: str
    grants: tuple[Grant, ...]

    @property
    def granted(self) -> int:
        return sum(g.granted for g in self.grants)

    @property
    def remaining(self) -> int:
        return sum(g.remaining for g in self.grants)

    @property
    def usage(self) -> int:
        return sum(g.usage for g in self.grants)

    @property
    def unlimited(self) -> bool:
        return any(g.unlimited for g in self.grants)

    @property
    def overage_allowed(self) -> bool:
        return any(g.usage_allowed for g in self.grants)

    @property
    def uncapped_overage(self) -> bool:
        return any(g.usage_allowed and g.floor is None for g in self.grants)

    @property
    def available_overage(self) -> int:
        return sum(
            g.balance - (g.floor or 0) - g.remaining
            for g in self.grants
            if g.usage_allowed and g.floor is not None
        )

    @property
    def next_reset_at(self) -> datetime | None:
        resets = [g.next_reset_at for g in self.grants if g.next_reset_at is not None]
        return min(resets) if resets else None


def allows(view: BalanceView | None, required_units: int) -> bool:
    """Autumn's `apiBalanceToAllowed`, first match wins."""
    if view is None:
        return False
    if view.unlimited or required_units < 0 or view.uncapped_overage:
        return True
    return view.remaining + view.available_overage >= required_units


@dataclass(frozen=True)
class Resolution:
    """Which balance answers a check, and the requirement in that balance's units."""

    view: BalanceView | None
    required: int  # fixed-point, in the answering balance's units (credits for a pool)
    pool: Feature | None


def _convert(required_units: int, cost: int) -> int:
    # exact: both operands are fixed-point; the product is rounded half-even to the scale
    return round(Fraction(required_units * cost, SCALE))


def resolve_check(
    feature: Feature,
    required_units: int,
    pools: Sequence[Feature],
    grants_by_feature: Mapping[str, Sequence[Grant]],
) -> Resolution:
    """Pick the balance that answers `check` for `feature`. `pools` are the credit systems
    containing the feature, in catalog order."""
    own_grants = grants_by_feature.get(feature.feature_id, ())
    own = BalanceView(feature.feature_id, tuple(own_grants)) if own_grants else None
    if not pools:
        return Resolution(own, required_units, None)
    if own is not None and allows(own, required_units):
        return Resolution(own, required_units, None)
    owned: list[tuple[Feature, BalanceView, int]] = []
    for pool in pools:
        pool_grants = grants_by_feature.get(pool.feature_id, ())
        cost = pool.cost_of(feature.feature_id)
        if pool_grants and cost is not None:
            owned.append((pool, BalanceView(pool.feature_id, tuple(pool_grants)), cost))
    for pool, view, cost in owned:
        converted = _convert(required_units, cost)
        if allows(view, converted):
            return Resolution(view, converted, pool)
    if owned:
        pool, view, cost = owned[0]
        return Resolution(view, _convert(required_units, cost), pool)
    return Resolution(own, required_units, None)

"""Grants: the balance rows a customer holds, and the order in which track draws from them.

A grant is what one plan item (or, later, one loose grant) gives one customer: `granted`
fixed-point units per cycle, of which `balance` remain. `usage = granted - balance`. An
unlimited grant has `granted = 0` and its balance runs negative as a usage counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allotment.domain.intervals import Interval, approximate_length, boundary
from allotment.domain.rollovers import RolloverRule

__all__ = ["Grant", "deduction_sort_key", "grant_ref"]

_FOREVER = timedelta(days=10**6)
_NEVER = datetime.max


@dataclass(frozen=True)
class Grant:
    id: int
    customer_internal_id: int
    feature_id: str
    granted: int
    balance: int
    unlimited: bool = False
    interval: Interval | None = None
    interval_count: int = 1
    anchor_at: datetime | None = None
    next_reset_at: datetime | None = None
    reset_index: int = 0  # the last boundary applied; -1: before boundary 0 (the anchor)
    expires_at: datetime | None = None
    plan_id: str | None = None
    customer_plan_id: int | None = None
    add_on: bool = False
    usage_allowed: bool = False  # pay-per-use: may go below 0, down to `floor`
    floor: int | None = 0  # lowest balance pass 2 may reach; None: no floor
    created_at: datetime | None = None
    entity_internal_id: int | None = None  # None: a customer-level grant
    external_id: str | None = None  # the app's own balance_id (loose grants)
    rollover: RolloverRule | None = None  # what rolls over at each reset
    source_grant_id: int | None = None  # a rollover grant: the grant it rolled over from

    @property
    def is_rollover(self) -> bool:
        return self.source_grant_id is not None

    @property
    def usage(self) -> int:
        return self.granted - self.balance

    @property
    def remaining(self) -> int:
        return 0 if self.unlimited else max(self.balance, 0)

    def takes_back(self, paid_at: datetime) -> bool:
        """Whether credits this live grant paid at `paid_at` may go back to it: not if a new
        cycle has begun since. Callers read it as of the instant of the give-back (expiries and
        resets due by then already applied, so an expired grant is not live). A reversal and a
        lock's release follow this one rule."""
        if self.interval is None or self.anchor_at is None or self.reset_index < 0:
            return True  # no boundary has passed yet
        started = boundary(self.anchor_at, self.interval, self.interval_count, self.reset_index)
        return started <= paid_at

    def with_balance(self, balance: int) -> Grant:
        # a copy with one field changed: `dataclasses.replace` re-runs __init__ over every
        # field, 5x slower on the track path; a frozen Grant has no __post_init__ to skip
        changed = object.__new__(Grant)
        fields = changed.__dict__
        fields.update(self.__dict__)
        fields["balance"] = balance
        return changed


def deduction_sort_key(
    grant: Grant, is_pool: bool, entity_internal_id: int | None = None
) -> tuple[object, ...]:
    """DESIGN.md's deduction order: the subject's own rows first (the entity's when an entity
    is named, else the customer's); rollovers first, soonest expiry first; own balances before
    pools; unlimited first; rows with a
    reset before rows without; shorter interval first; sooner expiry first; main plan before
    add-on; prepaid before pay-per-use; oldest first (then by id, so the order is total)."""
    interval_length = (
        approximate_length(grant.interval, grant.interval_count)
        if grant.interval is not None
        else _FOREVER
    )
    expires = grant.expires_at.replace(tzinfo=None) if grant.expires_at else _NEVER
    created = grant.created_at.replace(tzinfo=None) if grant.created_at else datetime.min
    return (
        grant.entity_internal_id != entity_internal_id,
        not grant.is_rollover,
        expires if grant.is_rollover else _NEVER,
        is_pool,
        not grant.unlimited,
        grant.interval is None,
        interval_length,
        expires,
        grant.add_on,
        grant.usage_allowed,
        created,
        grant.id,
    )


def grant_ref(grant_id: int) -> str:
    """A grant's public id when it has no `balance_id` of its own (`bal_<id>`)."""
    return f"bal_{grant_id}"

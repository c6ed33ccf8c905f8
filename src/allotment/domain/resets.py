"""Lazy resets. A grant whose `next_reset_at` has passed is reset before anything reads or
writes it: its balance returns to `granted` and `next_reset_at` moves to the first boundary
after now, counted from the cycle anchor. Missed periods never fire twice: only the last
boundary that passed matters for the balance (each earlier one would have set the same
balance), and the reset entry is dated at that boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from allotment.domain.grants import Grant
from allotment.domain.intervals import boundary, last_boundary_at_or_before

__all__ = ["Reset", "due_reset", "first_reset_at"]


@dataclass(frozen=True)
class Reset:
    before: Grant
    after: Grant
    boundary_at: datetime  # the instant of the last boundary applied

    @property
    def amount(self) -> int:
        return self.after.balance - self.before.balance


def first_reset_at(grant: Grant) -> datetime | None:
    if grant.interval is None or grant.unlimited or grant.anchor_at is None:
        return None
    return boundary(grant.anchor_at, grant.interval, grant.interval_count, 1)


def due_reset(grant: Grant, now: datetime) -> Reset | None:
    """The reset to apply to `grant` at `now`, or None if none is due."""
    if grant.next_reset_at is None or grant.next_reset_at > now:
        return None
    if grant.interval is None or grant.anchor_at is None:
        return None
    k = last_boundary_at_or_before(grant.anchor_at, grant.interval, grant.interval_count, now)
    after = replace(
        grant,
        balance=grant.granted,
        reset_index=k,
        next_reset_at=boundary(grant.anchor_at, grant.interval, grant.interval_count, k + 1),
    )
    boundary_at = boundary(grant.anchor_at, grant.interval, grant.interval_count, k)
    return Reset(grant, after, boundary_at)

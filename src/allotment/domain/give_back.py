"""Giving back what an event took: the one rule shared by a reversal and a lock's release,
lower confirmation or lapse.

Each usage entry of the event, last entry first, goes back to the very grant that paid it, net
of what was already given back to that grant (`release`, `refund` and `reversal` entries of
the same event):
- a grant still live and in the same cycle gets its credits back, at most up to its granted
  amount;
- a grant that has since reset, expired or been revoked gets nothing back (`Grant.takes_back`):
  the new cycle is not raised by old usage.
What is not given back is planned as an `unrestored` entry of amount 0 naming the grant, the
units and the reason. A units limit (a lock confirmed lower) counts the feature's units down
from the last entry; the entry it stops in gives back its share of credits, rounded down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from allotment.domain.grants import Grant

__all__ = [
    "GONE",
    "NO_ROOM",
    "RESET_SINCE",
    "RETURNED_KINDS",
    "GiveBack",
    "RecordedEntry",
    "plan_give_back",
]

RETURNED_KINDS = frozenset({"release", "refund", "reversal"})  # entries that gave back already

GONE = "the grant has expired or been revoked since"
RESET_SINCE = "the grant has reset since"
NO_ROOM = "the grant is already back to its granted amount"


class RecordedEntry(Protocol):
    """One ledger entry of the event, as recorded."""

    @property
    def grant_id(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def amount(self) -> int: ...

    @property
    def units(self) -> int | None: ...

    @property
    def feature_id(self) -> str | None: ...

    @property
    def effective_at(self) -> datetime: ...


@dataclass(frozen=True)
class GiveBack:
    """The plan for one usage entry of the event: of `owed` fixed-point credits still owed to
    the grant that paid, `credits` go back to it as a `kind` entry covering `units` of the
    tracked feature `feature_id`; the rest is not restored, planned as an `unrestored` entry
    of `unrestored_units` units, for `reason` (None: all of it went back)."""

    grant_id: int
    feature_id: str | None
    kind: str
    owed: int
    credits: int
    units: int
    unrestored_units: int
    reason: str | None


def _room(grant: Grant | None, paid_at: datetime, owed: int, room: int) -> tuple[int, str | None]:
    """How much of `owed` may go back to the grant that paid at `paid_at`, and why not all."""
    if grant is None:
        return 0, GONE
    if not grant.takes_back(paid_at):
        return 0, RESET_SINCE
    back = min(owed, room)
    return back, None if back == owed else NO_ROOM


def plan_give_back(
    entries: Sequence[RecordedEntry],
    live: Mapping[int, Grant],
    kind: str,
    units_limit: int | None = None,
) -> list[GiveBack]:
    """Plan giving back what the event's `entries` (all of them, in the order recorded) took,
    to the `live` grants (by id, as they are at the instant of the give-back), as `kind`
    entries. `units_limit`: how many fixed-point units of the feature go back at most (None:
    everything owed). Returns one plan per usage entry still owed something, last entry
    first."""
    returned: dict[int, int] = {}
    for entry in entries:
        if entry.kind in RETURNED_KINDS:
            returned[entry.grant_id] = returned.get(entry.grant_id, 0) + entry.amount
    room = {grant_id: max(g.granted - g.balance, 0) for grant_id, g in live.items()}
    left = units_limit
    plans: list[GiveBack] = []
    for entry in reversed([e for e in entries if e.kind == "usage"]):
        if left is not None and left <= 0:
            break
        paid = -entry.amount
        already = min(returned.get(entry.grant_id, 0), paid)
        returned[entry.grant_id] = returned.get(entry.grant_id, 0) - already
        owed = paid - already
        if owed <= 0:
            continue
        # the units of `per_credits` credits of this entry are `per_units`
        per_units, per_credits = entry.units or 0, paid
        owed_units = per_units * owed // per_credits
        if left is not None and owed_units > left:
            owed, owed_units = owed * left // owed_units, left
            per_units, per_credits = owed_units, owed
            if owed <= 0:
                continue
        back, reason = _room(
            live.get(entry.grant_id), entry.effective_at, owed, room.get(entry.grant_id, 0)
        )
        room[entry.grant_id] = room.get(entry.grant_id, 0) - back
        plans.append(
            GiveBack(
                grant_id=entry.grant_id,
                feature_id=entry.feature_id,
                kind=kind,
                owed=owed,
                credits=back,
                units=per_units * back // per_credits,
                unrestored_units=per_units * (owed - back) // per_credits if reason else 0,
                reason=reason,
            )
        )
        if left is not None:
            left -= owed_units
    return plans

"""Rollovers: at each reset, what is left of a grant rolls into a rollover grant.

A rule `{max?, max_percentage?, expiry}` rides on the grant that resets. At each boundary the
positive leftover becomes a rollover piece that expires `expiry_months` later (aligned to the
grant's cycle: a monthly grant's rollover of length 1 expires exactly at the next reset) or
never. The live rollovers of one grant are capped together by `max` (credits) and
`max_percentage` (of the grant's `granted`), the smaller of the two; the oldest piece is
trimmed first. Rollovers are drawn before anything else, soonest expiry first (see
`grants.deduction_sort_key`).

When several boundaries passed unseen, the result is as if each had been applied at its own
instant. Two facts keep that cheap and exact:
- a piece that would have expired before now cannot change the pieces that survive: trimming
  takes the oldest first, so the newest pieces always hold `min(their sum, cap)`;
- pieces that never expire are one piece: adding to it and trimming it to the cap commute
  (`min(min(x + a, c) + b, c) = min(x + a + b, c)` for a, b >= 0).
So only the boundaries whose piece is still alive now are played, and at most one row per
grant holds the never-expiring rollovers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from allotment.domain.amounts import MAX_UNITS, from_units, parse_amount, to_units
from allotment.domain.errors import invalid
from allotment.domain.intervals import Interval, add_months, boundary

__all__ = [
    "RolloverPiece",
    "RolloverPlan",
    "RolloverRule",
    "parse_rollover",
    "play_boundaries",
]

_MAX_EXPIRY_MONTHS = 1200
_SHORT_INTERVALS = (Interval.MINUTE, Interval.HOUR)


@dataclass(frozen=True)
class RolloverRule:
    max: int | None = None  # fixed-point units
    max_percentage: Decimal | None = None  # of the grant's `granted`, 0..100
    expiry_months: int | None = None  # None: never expires

    def cap(self, granted: int) -> int:
        """The most the live pieces may hold together (never above the largest balance)."""
        caps: list[int] = [MAX_UNITS]
        if self.max is not None:
            caps.append(self.max)
        if self.max_percentage is not None:
            share = Decimal(max(granted, 0)) * self.max_percentage / 100
            caps.append(int(share.to_integral_value(rounding=ROUND_DOWN)))
        return min(caps)

    def to_json(self) -> str:
        return json.dumps(
            {
                "max": self.max,
                "max_percentage": str(self.max_percentage)
                if self.max_percentage is not None
                else None,
                "expiry_months": self.expiry_months,
            }
        )

    @staticmethod
    def from_json(text: str | None) -> RolloverRule | None:
        if not text:
            return None
        raw = json.loads(text)
        percentage = raw.get("max_percentage")
        return RolloverRule(
            raw.get("max"),
            Decimal(percentage) if percentage is not None else None,
            raw.get("expiry_months"),
        )

    def wire(self) -> dict[str, object]:
        """The plan item's shape, as the official clients parse it: `max` always present
        (null: no cap), `expiry_duration_length` only for `month`."""
        shape: dict[str, object] = {
            "max": None if self.max is None else from_units(self.max),
            "max_percentage": self.max_percentage,
            "expiry_duration_type": "forever" if self.expiry_months is None else "month",
        }
        if self.expiry_months is not None:
            shape["expiry_duration_length"] = self.expiry_months
        return shape


def _percentage(raw: object, where: str) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
        raise invalid(f"{where}.max_percentage must be a number from 0 to 100")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise invalid(f"{where}.max_percentage must be a number from 0 to 100") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise invalid(f"{where}.max_percentage must be a number from 0 to 100")
    return value


def _expiry(raw: Mapping[str, object], where: str) -> int | None:
    """Both of Autumn's shapes: the plan item's `{expiry_duration_type, expiry_duration_length}`
    and balances.create's `{duration, length}`."""
    kind = raw.get("expiry_duration_type", raw.get("duration"))
    length = raw.get("expiry_duration_length", raw.get("length"))
    if kind in (None, "forever"):
        if kind is None and length is not None:
            kind = "month"
        else:
            return None
    if kind != "month":
        raise invalid(f"{where}.expiry_duration_type must be month or forever")
    if isinstance(length, float) and length.is_integer():
        length = int(length)
    if length is None:
        length = 1
    if isinstance(length, bool) or not isinstance(length, int):
        raise invalid(f"{where}.expiry_duration_length must be a whole number of months")
    if not 1 <= length <= _MAX_EXPIRY_MONTHS:
        raise invalid(f"{where}.expiry_duration_length must be from 1 to {_MAX_EXPIRY_MONTHS}")
    return length


def parse_rollover(raw: object, interval: Interval | None, where: str = "") -> RolloverRule | None:
    field_name = f"{where}.rollover" if where else "rollover"
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid(f"{field_name} must be an object")
    if interval is None:
        raise invalid(f"{field_name}: only a balance that resets can roll over")
    if interval in _SHORT_INTERVALS:
        raise invalid(f"{field_name}: rollovers need a reset of a day or longer")
    cap = raw.get("max")
    return RolloverRule(
        to_units(parse_amount(cap, f"{field_name}.max")) if cap is not None else None,
        _percentage(raw.get("max_percentage"), field_name),
        _expiry(raw, field_name),
    )


@dataclass
class RolloverPiece:
    """One rollover grant: an existing row (`grant_id`) or one a reset creates."""

    balance: int
    expires_at: datetime | None
    born_at: datetime
    grant_id: int | None = None
    added: int = 0  # credits a reset adds to an existing (never-expiring) piece
    trimmed: int = 0  # credits the cap took from an existing piece


@dataclass
class RolloverPlan:
    pieces: list[RolloverPiece] = field(default_factory=list)


def _expiry_at(anchor: datetime, interval: Interval, count: int, k: int, months: int) -> datetime:
    if interval.months:
        return add_months(anchor, interval.months * count * k + months)
    return add_months(boundary(anchor, interval, count, k), months)


def _trim(pieces: Sequence[RolloverPiece], cap: int) -> None:
    excess = sum(p.balance for p in pieces) - cap
    for piece in pieces:  # oldest first
        if excess <= 0:
            return
        taken = min(piece.balance, excess)
        piece.balance -= taken
        if piece.grant_id is not None:
            piece.trimmed += taken
        excess -= taken


def _play_forever(
    pieces: list[RolloverPiece],
    cap: int,
    anchor: datetime,
    interval: Interval,
    count: int,
    granted: int,
    balance: int,
    first: int,
    last: int,
) -> None:
    """Never-expiring pieces are one piece; adding and trimming commute, so the boundaries
    play in closed form. One case does not commute: a piece left at 0 by the first boundary
    (piece and grant both used up) closes there, as it would if that boundary were seen on its
    own, and what later boundaries roll over starts a new piece."""
    leftover = max(balance, 0)
    later = max(granted, 0) * (last - first)
    if pieces and pieces[-1].balance + leftover <= 0 and later:
        # the old piece stays in the plan at 0, so it is closed; a new one starts
        pieces.append(RolloverPiece(0, None, boundary(anchor, interval, count, first + 1)))
    if pieces:
        pieces[-1].balance += leftover + later
        pieces[-1].added += leftover + later
    elif leftover + later:
        born = first if leftover else first + 1  # the first boundary that rolled anything
        pieces.append(
            RolloverPiece(leftover + later, None, boundary(anchor, interval, count, born))
        )
    _trim(pieces, cap)


def play_boundaries(
    rule: RolloverRule,
    *,
    anchor: datetime,
    interval: Interval,
    count: int,
    granted: int,
    balance: int,
    first: int,
    last: int,
    existing: Sequence[RolloverPiece],
    now: datetime,
) -> RolloverPlan:
    """Boundaries `first..last` of a grant (balance `balance` before the first, `granted`
    after each) played against its live rollovers `existing` (oldest first). Returns every
    live piece afterwards, oldest first, with what each gained or lost."""
    pieces = list(existing)
    cap = rule.cap(granted)
    if rule.expiry_months is None:
        _play_forever(pieces, cap, anchor, interval, count, granted, balance, first, last)
        return RolloverPlan(pieces)
    months = rule.expiry_months
    k = first
    # skip the boundaries whose piece would already have expired: they cannot change the rest
    while k <= last and _expiry_at(anchor, interval, count, k, months) <= now:
        k += 1
    for index in range(k, last + 1):
        leftover = max(balance if index == first else granted, 0)
        if leftover:
            at = boundary(anchor, interval, count, index)
            pieces.append(
                RolloverPiece(leftover, _expiry_at(anchor, interval, count, index, months), at)
            )
        _trim(pieces, cap)
    return RolloverPlan(pieces)

"""What the usage use cases answer (check, track, events.reverse, events.list), before any wire
shape: the services return these, the session presents them (`wire.present`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from allotment.domain.balances import BalanceView
from allotment.domain.errors import AllotmentError
from allotment.domain.grants import Grant

__all__ = [
    "BatchItemOutcome",
    "CheckOutcome",
    "EventRow",
    "EventsPage",
    "ReversalOutcome",
    "ReversedEntry",
    "TrackOutcome",
]


@dataclass(frozen=True)
class CheckOutcome:
    """`check`: whether the customer may use `required` of the feature, and the balance (or,
    for a boolean feature, the grant) that answers."""

    allowed: bool
    customer_id: str
    entity_id: str | None
    feature_id: str
    required: Decimal  # in the answering balance's units (a pool's credits for its features)
    view: BalanceView | None  # None for a boolean feature or when no balance answers
    flag: Grant | None = None  # a boolean feature's first grant, when the customer has one


@dataclass(frozen=True)
class TrackOutcome:
    """`track`: the event recorded (none for a boolean feature) and the balance that answers
    (None when several features listen to the event name)."""

    customer_id: str
    entity_id: str | None
    feature_id: str | None  # None when several features listen to the event name
    value: Decimal
    view: BalanceView | None
    event_id: int | None = None
    event_name: str | None = None


@dataclass(frozen=True)
class BatchItemOutcome:
    """What became of one event of a batch of tracks: recorded (`outcome`) or refused
    (`error`), with its index in the batch."""

    index: int
    customer_id: str
    outcome: TrackOutcome | None = None
    error: AllotmentError | None = None


@dataclass(frozen=True)
class ReversedEntry:
    """One grant that paid for a reversed event: what it paid, what went back, why not all."""

    balance_id: str  # the grant's public id (see domain.grants.grant_ref)
    feature_id: str  # the grant's feature (a credit pool, when a pool paid)
    amount: Decimal
    restored: Decimal
    reason: str | None = None


@dataclass(frozen=True)
class ReversalOutcome:
    event_id: int
    customer_id: str
    reversed_at: datetime
    entries: tuple[ReversedEntry, ...]


@dataclass(frozen=True)
class EventRow:
    """One usage event as `events.list` answers it."""

    id: int
    timestamp: datetime
    feature_id: str | None  # the event name when a name was tracked
    event_name: str | None
    customer_id: str
    value: Decimal
    properties: Mapping[str, Any]
    idempotency_key: str | None


@dataclass(frozen=True)
class EventsPage:
    rows: tuple[EventRow, ...]
    next_cursor: str | None  # None on the last page

"""Plain records that the storage layer reads and writes besides the domain's own types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CustomerRecord:
    internal_id: int
    customer_id: str
    name: str | None
    email: str | None
    fingerprint: str | None
    metadata: dict[str, Any]
    created_at: datetime
    clock_at: datetime | None = None  # a sandbox test clock: the customer's frozen time

    @property
    def deleted(self) -> bool:
        """A deleted customer gave up its id (see CustomerStore.delete)."""
        return "#deleted#" in self.customer_id

    def time(self, now: datetime) -> datetime:
        """The customer's present: its test clock's frozen time when it has one."""
        return self.clock_at if self.clock_at is not None else now


@dataclass(frozen=True)
class CustomerPlanRecord:
    id: int
    customer_internal_id: int
    plan_internal_id: int
    plan_id: str
    status: str
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class EventRecord:
    id: int
    customer_id: str
    feature_id: str | None
    event_name: str | None
    value: int
    unapplied: int
    properties: dict[str, Any]
    timestamp: datetime
    idempotency_key: str | None
    customer_internal_id: int | None = None
    reversed_at: datetime | None = None


@dataclass(frozen=True)
class EntryRecord:
    grant_id: int
    kind: str
    amount: int
    effective_at: datetime
    event_id: int | None = None
    units: int | None = None
    feature_id: str | None = None
    note: str | None = None  # JSON {by, reason} of a manual change


@dataclass(frozen=True)
class BalanceMismatch:
    grant_id: int
    customer_id: str
    feature_id: str
    stored: int
    folded: int


@dataclass(frozen=True)
class EntityRecord:
    internal_id: int
    customer_internal_id: int
    entity_id: str
    name: str | None
    feature_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class LockRecord:
    id: int
    lock_id: str
    customer_internal_id: int
    entity_internal_id: int | None
    feature_id: str
    event_id: int | None
    value: int
    status: str
    expires_at: datetime

"""Typed results. Amounts are exact `Decimal`s; times are Unix milliseconds, as on the wire."""

from __future__ import annotations

import builtins
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class _Result(BaseModel):
    """Optional keys listed in `omit_when_none` are left out of the HTTP JSON when they are
    None (the official JS client's schemas accept a missing optional key, not a null one)."""

    model_config = ConfigDict(frozen=True)
    omit_when_none: ClassVar[frozenset[str]] = frozenset()


class BalanceReset(_Result):
    interval: str
    interval_count: int = 1
    resets_at: int | None = None


class BalanceBreakdown(_Result):
    id: str
    plan_id: str | None
    included_grant: Decimal
    prepaid_grant: Decimal = Decimal(0)
    remaining: Decimal
    usage: Decimal
    unlimited: bool
    reset: BalanceReset | None
    price: dict[str, Any] | None = None
    expires_at: int | None = None


class BalanceRollover(_Result):
    granted: Decimal  # what rolled in (less what the cap trimmed since)
    balance: Decimal
    expires_at: int  # Unix ms; 253402300799999 (9999-12-31) for a rollover that never expires


class ReversedEntry(_Result):
    balance_id: str  # the grant that paid
    feature_id: str  # the grant's feature (a credit pool, when a pool paid)
    amount: Decimal  # what it paid
    restored: Decimal  # what went back to it
    reason: str | None = None  # why not all of it went back


class Reversal(_Result):
    id: str  # the event
    customer_id: str
    reversed_at: int
    entries: list[ReversedEntry]


class TestClock(_Result):
    customer_id: str
    frozen_time: int  # Unix ms
    status: str = "ready"


class Balance(_Result):
    omit_when_none = frozenset({"rollovers"})

    feature_id: str
    granted: Decimal
    remaining: Decimal
    usage: Decimal
    unlimited: bool
    overage_allowed: bool
    max_purchase: Decimal | None = None
    next_reset_at: int | None
    breakdown: list[BalanceBreakdown] = Field(default_factory=list)
    rollovers: list[BalanceRollover] | None = None  # present when any rollover is live


class Flag(_Result):
    id: str
    plan_id: str | None
    expires_at: int | None
    feature_id: str


class CheckResponse(_Result):
    omit_when_none = frozenset({"required_balance"})
    allowed: bool
    customer_id: str | None
    entity_id: str | None = None
    required_balance: Decimal | None = None
    balance: Balance | None
    flag: Flag | None


class TrackResponse(_Result):
    omit_when_none = frozenset({"id", "entity_id", "event_name", "feature_id", "balances"})
    id: str | None = None
    customer_id: str | None
    entity_id: str | None = None
    event_name: str | None = None
    feature_id: str | None = None
    value: Decimal
    balance: Balance | None
    balances: dict[str, Balance] | None = None


class BatchTrackItem(_Result):
    """One event of a batch: recorded (`success`, its event `id`) or refused (`code`,
    `message`), with its index in the batch."""

    omit_when_none = frozenset(
        {"id", "entity_id", "event_name", "feature_id", "value", "code", "message"}
    )
    index: int
    success: bool
    customer_id: str
    id: str | None = None
    entity_id: str | None = None
    event_name: str | None = None
    feature_id: str | None = None
    value: Decimal | None = None
    code: str | None = None
    message: str | None = None


class BatchTrackResponse(_Result):
    """Autumn's `{"success": true}`, with each event's outcome in batch order."""

    success: bool = True
    results: list[BatchTrackItem]


class Subscription(_Result):
    id: str
    plan_id: str
    auto_enable: bool
    add_on: bool
    status: str
    past_due: bool = False
    canceled_at: int | None = None
    expires_at: int | None = None
    trial_ends_at: int | None = None
    started_at: int
    current_period_start: int | None = None
    current_period_end: int | None = None
    quantity: int = 1
    version: int = 1


class Customer(_Result):
    id: str | None
    name: str | None
    email: str | None
    created_at: int
    fingerprint: str | None
    stripe_id: str | None = None
    env: str
    metadata: dict[str, Any]
    send_email_receipts: bool = False
    billing_controls: dict[str, Any] = Field(default_factory=dict)
    subscriptions: list[Subscription]
    purchases: list[dict[str, Any]] = Field(default_factory=list)
    licenses: list[dict[str, Any]] = Field(default_factory=list)
    balances: dict[str, Balance]
    flags: dict[str, Flag]


class Entity(_Result):
    id: str | None
    name: str | None
    customer_id: str | None
    feature_id: str | None
    created_at: int
    env: str
    subscriptions: list[Subscription]
    purchases: list[dict[str, Any]] = Field(default_factory=list)
    balances: dict[str, Balance]
    flags: dict[str, Flag]


class Success(_Result):
    success: bool = True


class CreditSchemaItem(_Result):
    metered_feature_id: str
    credit_cost: Decimal


class Feature(_Result):
    omit_when_none = frozenset({"credit_schema", "display"})
    id: str
    name: str | None
    type: str
    consumable: bool
    event_names: list[str]
    credit_schema: list[CreditSchemaItem] | None
    display: dict[str, Any] | None
    archived: bool


class PlanItemReset(_Result):
    interval: str
    interval_count: int = 1


class PlanItem(_Result):
    omit_when_none = frozenset({"rollover"})
    feature_id: str
    included: Decimal
    unlimited: bool
    reset: PlanItemReset | None
    price: dict[str, Any] | None = None
    rollover: dict[str, Any] | None = None


class Plan(_Result):
    omit_when_none = frozenset({"free_trial"})
    id: str
    name: str | None
    description: str | None
    group: str | None
    version: int
    add_on: bool
    auto_enable: bool
    price: dict[str, Any] | None = None
    items: list[PlanItem]
    free_trial: dict[str, Any] | None = None
    created_at: int
    env: str
    archived: bool
    metadata: dict[str, Any]
    config: dict[str, Any] = Field(default_factory=dict)
    base_variant_id: str | None = None


class AttachResponse(_Result):
    omit_when_none = frozenset({"entity_id"})
    customer_id: str
    entity_id: str | None = None
    payment_url: str | None = None


class Event(_Result):
    id: str
    timestamp: int
    feature_id: str | None
    event_name: str | None
    customer_id: str
    value: Decimal
    properties: dict[str, Any]
    idempotency_key: str | None = None
    deductions: list[dict[str, Any]] | None = None


class EventsPage(_Result):
    list: builtins.list[Event]
    next_cursor: str | None

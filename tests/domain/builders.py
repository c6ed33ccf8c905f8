"""Small builders for the domain tests: plain values, no database, no services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from allotment.domain.catalog import CreditCost, Feature, FeatureType
from allotment.domain.deduction import Candidate
from allotment.domain.grants import Grant
from allotment.domain.intervals import Interval

U = 10**6  # one whole unit in fixed-point


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type,misc]


def make_grant(
    id: int = 1, balance: int = 10 * U, *, granted: int | None = None, **fields: Any
) -> Grant:
    """A customer-level grant of feature `f`; `granted` defaults to `balance` (unused)."""
    fields.setdefault("feature_id", "f")
    fields.setdefault("customer_internal_id", 1)
    return Grant(id=id, granted=balance if granted is None else granted, balance=balance, **fields)


def monthly_grant(
    anchor: datetime, granted: int, balance: int | None = None, **fields: Any
) -> Grant:
    """A grant that resets every month from `anchor` (no reset applied yet)."""
    fields.setdefault("interval", Interval.MONTH)
    fields.setdefault("anchor_at", anchor)
    return make_grant(granted=granted, balance=granted if balance is None else balance, **fields)


def own(grant: Grant, *, continuous: bool = False) -> Candidate:
    return Candidate(grant, U, False, continuous)


def pool(grant: Grant, cost: int) -> Candidate:
    return Candidate(grant, cost, True)


def metered(feature_id: str, *, consumable: bool = True) -> Feature:
    return Feature(feature_id, feature_id.title(), FeatureType.METERED, consumable)


def boolean(feature_id: str) -> Feature:
    return Feature(feature_id, feature_id.title(), FeatureType.BOOLEAN, False)


def credit_system(feature_id: str, **costs: int) -> Feature:
    """A credit system whose schema charges `costs[feature]` fixed-point credits per unit."""
    schema = tuple(CreditCost(member, cost) for member, cost in costs.items())
    return Feature(feature_id, feature_id.title(), FeatureType.CREDIT_SYSTEM, True, (), schema)

"""Autumn's 1.2 response shapes, for clients that send `x-api-version: 1.x` (autumn-py,
autumn-js 0.x, old curl scripts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from allotment import wire as schemas
from allotment.wire.present import ONE_OFF


def _balance_fields(balance: schemas.Balance | None) -> dict[str, Any]:
    if balance is None:
        return {
            "interval": None,
            "interval_count": None,
            "unlimited": False,
            "balance": None,
            "usage": None,
            "included_usage": None,
            "next_reset_at": None,
            "overage_allowed": False,
            "usage_limit": None,
        }
    intervals = {
        p.reset.interval
        for p in balance.breakdown
        if p.reset is not None and p.reset.interval != ONE_OFF
    }
    interval: str | None = "multiple" if len(intervals) > 1 else next(iter(intervals), "lifetime")
    return {
        "interval": interval,
        "interval_count": 1,
        "unlimited": balance.unlimited,
        "balance": balance.remaining,
        "usage": Decimal(0) if balance.unlimited else balance.usage,
        "included_usage": balance.granted,
        "next_reset_at": balance.next_reset_at,
        "overage_allowed": balance.overage_allowed,
        "usage_limit": balance.max_purchase,
        "breakdown": [p.model_dump(mode="python") for p in balance.breakdown],
    }


def check(result: schemas.CheckResponse, feature_id: str) -> dict[str, Any]:
    return {
        "allowed": result.allowed,
        "code": "feature_found",
        "customer_id": result.customer_id,
        "feature_id": result.balance.feature_id if result.balance else feature_id,
        "entity_id": result.entity_id,
        "required_balance": result.required_balance,
        **_balance_fields(result.balance),
    }


def track(result: schemas.TrackResponse) -> dict[str, Any]:
    return {
        "id": result.id or "placeholder",
        "code": "event_received",
        "customer_id": result.customer_id,
        "entity_id": result.entity_id,
        "event_name": result.event_name,
        "feature_id": result.feature_id,
    }


def customer(result: schemas.Customer, features: dict[str, schemas.Feature]) -> dict[str, Any]:
    shaped: dict[str, Any] = result.model_dump(mode="python")
    items: dict[str, Any] = {}
    for feature_id, balance in result.balances.items():
        known = features.get(feature_id)
        items[feature_id] = {
            "id": feature_id,
            "type": _legacy_type(known),
            "name": known.name if known else None,
            **_balance_fields(balance),
            "credit_schema": [
                {"feature_id": line.metered_feature_id, "credit_amount": line.credit_cost}
                for line in (known.credit_schema or [])
            ]
            if known and known.credit_schema
            else None,
        }
    for feature_id in result.flags:
        items[feature_id] = {
            "id": feature_id,
            "type": "static",
            "name": None,
            **_balance_fields(None),
        }
    shaped["features"] = items
    shaped["products"] = [
        {
            "id": s.plan_id,
            "name": s.plan_id,
            "group": None,
            "status": s.status,
            "is_add_on": s.add_on,
            "is_default": s.auto_enable,
            "version": s.version,
            "started_at": s.started_at,
        }
        for s in result.subscriptions
    ]
    shaped["add_ons"] = [p for p in shaped["products"] if p["is_add_on"]]
    return shaped


def _legacy_type(feature: schemas.Feature | None) -> str:
    if feature is None:
        return "single_use"
    if feature.type == "metered":
        return "single_use" if feature.consumable else "continuous_use"
    if feature.type == "credit_system":
        # Autumn's 1.2 names it credit_system, but the 1.2 client (autumn-py) only parses
        # static|boolean|single_use|continuous_use: a pool is consumed like a single-use feature
        return "single_use"
    return "static" if feature.type == "boolean" else feature.type


def attach(result: schemas.AttachResponse, plan_id: str) -> dict[str, Any]:
    return {
        "success": True,
        "customer_id": result.customer_id,
        "product_ids": [plan_id],
        "code": "attached",
        "message": f"Attached {plan_id} to {result.customer_id}",
        "checkout_url": None,
    }

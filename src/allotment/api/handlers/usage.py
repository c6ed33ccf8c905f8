"""balances.check, balances.track, balances.finalize and the legacy /v1/usage: request model ->
the tenant session -> the answer (1.2 shapes for 1.x clients)."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.wire import legacy
from allotment.wire.requests import CheckRequest, FinalizeRequest, TrackRequest, UsageRequest


def check(ctx: RequestContext, body: CheckRequest) -> Any:
    feature_id = body.feature_id
    if feature_id is None:
        raise invalid("feature_id is required")
    consuming = bool(body.send_event) or (body.lock is not None and body.lock.enabled)
    if ctx.publishable and consuming:
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST, "a publishable key cannot send_event or take a lock"
        )
    result = ctx.tenant.check(
        customer_id=body.customer_id,
        feature_id=feature_id,
        entity_id=body.entity_id,
        required_balance=(
            body.required_balance if body.required_balance is not None else body.required_quantity
        ),
        send_event=body.send_event,
        properties=body.properties,
        lock=body.lock.model_dump() if body.lock is not None else None,
        customer_data=body.customer_data,
    )
    return legacy.check(result, feature_id) if ctx.legacy else result


def track(ctx: RequestContext, body: TrackRequest) -> Any:
    result = ctx.tenant.track(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        event_name=body.event_name,
        entity_id=body.entity_id,
        value=body.value,
        properties=body.properties,
        timestamp=body.timestamp,
        idempotency_key=(
            body.idempotency_key if body.idempotency_key is not None else ctx.idempotency_key
        ),
        overage_behavior=body.overage_behavior,
        customer_data=body.customer_data,
    )
    return legacy.track(result) if ctx.legacy else result


def finalize(ctx: RequestContext, body: FinalizeRequest) -> schemas.Success:
    return ctx.tenant.balances.finalize(
        lock_id=body.lock_id, action=body.action, override_value=body.override_value
    )


def usage(ctx: RequestContext, body: UsageRequest) -> dict[str, Any]:
    """Legacy `POST /v1/usage`: set the usage of a feature to `value`."""
    ctx.tenant.balances.set_usage(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        entity_id=body.entity_id,
        value=body.value,
    )
    return {"success": True}

"""balances.check, balances.track, balances.batch_track, balances.finalize and the legacy
/v1/usage: request model -> the tenant session -> the answer (1.2 shapes for 1.x clients)."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.wire import legacy
from allotment.wire.requests import (
    BatchTrackRequest,
    CheckRequest,
    FinalizeRequest,
    TrackRequest,
    UsageRequest,
)


def check(ctx: RequestContext, body: CheckRequest) -> Any:
    consuming = bool(body.send_event) or (body.lock is not None and body.lock.enabled)
    if ctx.publishable and consuming and body.feature_id is not None:
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST, "a publishable key cannot send_event or take a lock"
        )
    if body.required_balance is None and body.required_quantity is not None:
        body = body.model_copy(update={"required_balance": body.required_quantity})
    result = ctx.tenant.check_from(body)  # refuses a request without feature_id
    if not ctx.legacy:
        return result
    assert body.feature_id is not None
    return legacy.check(result, body.feature_id)


def track(ctx: RequestContext, body: TrackRequest) -> Any:
    if body.idempotency_key is None and ctx.idempotency_key is not None:
        body = body.model_copy(update={"idempotency_key": ctx.idempotency_key})
    result = ctx.tenant.track_from(body)
    return legacy.track(result) if ctx.legacy else result


def batch_track(ctx: RequestContext, body: BatchTrackRequest) -> schemas.BatchTrackResponse:
    """The `Idempotency-Key` header covers the whole batch: an event without a key of its own
    gets `<header>:<index>`, so a batch sent again records none of its events twice."""
    header = ctx.idempotency_key
    if header is not None:
        items = [
            item
            if item.idempotency_key is not None
            else item.model_copy(update={"idempotency_key": f"{header}:{index}"})
            for index, item in enumerate(body.root)
        ]
        body = BatchTrackRequest(items)
    return ctx.tenant.track_many_from(body)


def finalize(ctx: RequestContext, body: FinalizeRequest) -> schemas.Success:
    return ctx.tenant.balances.finalize_from(body)


def usage(ctx: RequestContext, body: UsageRequest) -> dict[str, Any]:
    """Legacy `POST /v1/usage`: set the usage of a feature to `value`."""
    ctx.tenant.balances.set_usage_from(body)
    return {"success": True}

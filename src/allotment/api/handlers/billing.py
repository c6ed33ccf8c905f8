"""billing.attach and events."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import invalid
from allotment.services import customers as customer_service
from allotment.services import events as event_service
from allotment.services import reversals as reversal_service
from allotment.wire import legacy
from allotment.wire.requests import (
    AttachRequest,
    EventReverseRequest,
    EventsAggregateRequest,
    EventsListRequest,
)


def attach(ctx: RequestContext, body: AttachRequest) -> Any:
    plan_id = body.plan_id or body.product_id
    if plan_id is None:
        raise invalid("plan_id is required")
    result = ctx.write(
        lambda store, now, _: customer_service.attach(
            store,
            now,
            customer_id=body.customer_id,
            plan_id=plan_id,
            version=body.version,
            entity_id=body.entity_id,
        )
    )
    return legacy.attach(result, plan_id) if ctx.legacy else result


def list_events(ctx: RequestContext, body: EventsListRequest) -> Any:
    custom = body.custom_range.model_dump() if body.custom_range is not None else None
    return ctx.read(
        lambda store, _now, _: event_service.list_page(
            store,
            customer_id=body.customer_id,
            feature_id=body.feature_id,
            custom_range=custom,
            start_cursor=body.start_cursor or None,
            limit=body.limit if body.limit is not None else 50,
        )
    )


def reverse_event(ctx: RequestContext, body: EventReverseRequest) -> schemas.Reversal:
    return ctx.write(
        lambda store, now, _: reversal_service.reverse(
            store, now, event_id=body.event_id, idempotency_key=body.idempotency_key
        )
    )


def aggregate_events(ctx: RequestContext, body: EventsAggregateRequest) -> dict[str, Any]:
    custom = body.custom_range.model_dump() if body.custom_range is not None else None
    return ctx.read(
        lambda store, now, _: event_service.aggregate(
            store,
            now,
            feature_id=body.feature_id,
            customer_id=body.customer_id,
            range_=body.range,
            bin_size=body.bin_size,
            custom_range=custom,
            group_by=body.group_by,
        )
    )

"""events.*: request model -> the tenant session -> the answer."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.wire.requests import EventReverseRequest, EventsAggregateRequest, EventsListRequest


def list_events(ctx: RequestContext, body: EventsListRequest) -> schemas.EventsPage:
    return ctx.tenant.events.list(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        custom_range=body.custom_range.model_dump() if body.custom_range is not None else None,
        start_cursor=body.start_cursor or None,
        limit=body.limit if body.limit is not None else 50,
    )


def reverse_event(ctx: RequestContext, body: EventReverseRequest) -> schemas.Reversal:
    return ctx.tenant.events.reverse(event_id=body.event_id, idempotency_key=body.idempotency_key)


def aggregate_events(ctx: RequestContext, body: EventsAggregateRequest) -> dict[str, Any]:
    return ctx.tenant.events.aggregate(
        feature_id=body.feature_id,
        customer_id=body.customer_id,
        range=body.range,
        bin_size=body.bin_size,
        custom_range=body.custom_range.model_dump() if body.custom_range is not None else None,
        group_by=body.group_by,
    )

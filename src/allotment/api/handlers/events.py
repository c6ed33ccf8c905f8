"""events.*: request model -> the tenant session -> the answer."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.wire.requests import EventReverseRequest, EventsAggregateRequest, EventsListRequest


def list_events(ctx: RequestContext, body: EventsListRequest) -> schemas.EventsPage:
    return ctx.tenant.events.list_from(body)


def reverse_event(ctx: RequestContext, body: EventReverseRequest) -> schemas.Reversal:
    return ctx.tenant.events.reverse_from(body)


def aggregate_events(ctx: RequestContext, body: EventsAggregateRequest) -> dict[str, Any]:
    return ctx.tenant.events.aggregate_from(body)

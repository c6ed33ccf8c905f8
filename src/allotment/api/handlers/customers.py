"""customers.* and entities.*: the validated request model -> the tenant session's `_from`
method (the embedded API's own validation path) -> the answer (1.2 shapes for 1.x clients)."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.wire import legacy
from allotment.wire.requests import (
    CustomerIdRequest,
    CustomerRequest,
    EntityRequest,
    ListRequest,
    TestClockRequest,
)


def _shape(ctx: RequestContext, customer: schemas.Customer) -> Any:
    if not ctx.legacy:
        return customer
    features = ctx.tenant.features.list(include_archived=True)
    return legacy.customer(customer, {f.id: f for f in features})


def get_or_create(ctx: RequestContext, body: CustomerRequest) -> Any:
    """`customer_id`, or `id` (the session's `get_or_create_from` picks)."""
    return _shape(ctx, ctx.tenant.customers.get_or_create_from(body))


def get(ctx: RequestContext, body: CustomerIdRequest) -> Any:
    return _shape(ctx, ctx.tenant.customers.get_from(body))


def update(ctx: RequestContext, body: CustomerRequest) -> Any:
    return _shape(ctx, ctx.tenant.customers.update_from(body))


def delete(ctx: RequestContext, body: CustomerIdRequest) -> schemas.Success:
    return ctx.tenant.customers.delete_from(body)


def advance_test_clock(ctx: RequestContext, body: TestClockRequest) -> schemas.TestClock:
    return ctx.tenant.customers.advance_test_clock_from(body)


def list_customers(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.tenant.customers.list_from(body)
    return {"list": page, "next_cursor": cursor}


def create_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.create_from(body)


def get_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.get_from(body)


def update_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.update_from(body)


def delete_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Success:
    return ctx.tenant.entities.delete_from(body)


def list_entities(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.tenant.entities.list_from(body)
    return {"list": page, "next_cursor": cursor}

"""customers.* and entities.*: request model -> the tenant session -> the answer (1.2
shapes for 1.x clients)."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import invalid
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


def _customer_id(body: CustomerRequest) -> str:
    customer_id = body.customer_id or body.id
    if customer_id is None:
        raise invalid("customer_id is required (anonymous customers are not supported yet)")
    return customer_id


def get_or_create(ctx: RequestContext, body: CustomerRequest) -> Any:
    customer = ctx.tenant.customers.get_or_create(
        customer_id=_customer_id(body),
        name=body.name,
        email=body.email,
        fingerprint=body.fingerprint,
        metadata=body.metadata,
    )
    return _shape(ctx, customer)


def get(ctx: RequestContext, body: CustomerIdRequest) -> Any:
    return _shape(ctx, ctx.tenant.customers.get(customer_id=body.customer_id))


def update(ctx: RequestContext, body: CustomerRequest) -> Any:
    customer = ctx.tenant.customers.update(
        customer_id=body.customer_id or body.id,  # type: ignore[arg-type]
        name=body.name,
        email=body.email,
        fingerprint=body.fingerprint,
        metadata=body.metadata,
    )
    return _shape(ctx, customer)


def delete(ctx: RequestContext, body: CustomerIdRequest) -> schemas.Success:
    return ctx.tenant.customers.delete(customer_id=body.customer_id)


def advance_test_clock(ctx: RequestContext, body: TestClockRequest) -> schemas.TestClock:
    return ctx.tenant.customers.advance_test_clock(
        customer_id=body.customer_id, frozen_time=body.frozen_time
    )


def list_customers(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.tenant.customers.list(start_cursor=body.start_cursor, limit=body.limit)
    return {"list": page, "next_cursor": cursor}


def create_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.create(
        customer_id=body.customer_id,  # type: ignore[arg-type]
        entity_id=body.entity_id,
        feature_id=body.feature_id,
        name=body.name,
    )


def get_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.get(entity_id=body.entity_id, customer_id=body.customer_id)


def update_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.tenant.entities.update(
        entity_id=body.entity_id, customer_id=body.customer_id, name=body.name
    )


def delete_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Success:
    return ctx.tenant.entities.delete(entity_id=body.entity_id, customer_id=body.customer_id)


def list_entities(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.tenant.entities.list(
        customer_id=body.customer_id, start_cursor=body.start_cursor, limit=body.limit
    )
    return {"list": page, "next_cursor": cursor}

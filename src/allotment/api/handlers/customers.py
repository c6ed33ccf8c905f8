"""customers and entities."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import invalid
from allotment.services import customers as customer_service
from allotment.services import entities as entity_service
from allotment.services import features as feature_service
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
    features = ctx.read(
        lambda store, _now, _: feature_service.list_all(store, include_archived=True)
    )
    return legacy.customer(customer, {f.id: f for f in features})


def get_or_create(ctx: RequestContext, body: CustomerRequest) -> Any:
    customer_id = body.customer_id or body.id
    if customer_id is None:
        raise invalid("customer_id is required (anonymous customers are not supported yet)")
    result = ctx.write(
        lambda store, now, write: customer_service.get_or_create(
            store,
            now,
            customer_id=customer_id,
            name=body.name,
            email=body.email,
            fingerprint=body.fingerprint,
            metadata=body.metadata,
            write=write,
        )
    )
    return _shape(ctx, result)


def get(ctx: RequestContext, body: CustomerIdRequest) -> Any:
    result = ctx.read(
        lambda store, now, write: customer_service.get(store, now, body.customer_id, write=write)
    )
    return _shape(ctx, result)


def update(ctx: RequestContext, body: CustomerRequest) -> Any:
    customer_id = body.customer_id or body.id
    result = ctx.write(
        lambda store, now, _: customer_service.update(
            store,
            now,
            customer_id=customer_id,
            name=body.name,
            email=body.email,
            fingerprint=body.fingerprint,
            metadata=body.metadata,
        )
    )
    return _shape(ctx, result)


def delete(ctx: RequestContext, body: CustomerIdRequest) -> schemas.Success:
    ctx.write(lambda store, now, _: customer_service.delete(store, now, body.customer_id))
    return schemas.Success()


def advance_test_clock(ctx: RequestContext, body: TestClockRequest) -> schemas.TestClock:
    return ctx.write(
        lambda store, now, _: customer_service.advance_test_clock(
            store, now, customer_id=body.customer_id, frozen_time=body.frozen_time
        )
    )


def list_customers(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.write(
        lambda store, now, _: customer_service.list_page(
            store, now, start_cursor=body.start_cursor or None, limit=body.limit
        )
    )
    return {"list": page, "next_cursor": cursor}


def create_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.write(
        lambda store, now, _: entity_service.create(
            store,
            now,
            customer_id=body.customer_id,
            entity_id=body.entity_id,
            feature_id=body.feature_id,
            name=body.name,
        )
    )


def get_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.read(
        lambda store, now, write: entity_service.get(
            store, now, entity_id=body.entity_id, customer_id=body.customer_id, write=write
        )
    )


def update_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Entity:
    return ctx.write(
        lambda store, now, _: entity_service.update(
            store, now, entity_id=body.entity_id, customer_id=body.customer_id, name=body.name
        )
    )


def delete_entity(ctx: RequestContext, body: EntityRequest) -> schemas.Success:
    ctx.write(
        lambda store, now, _: entity_service.delete(
            store, now, entity_id=body.entity_id, customer_id=body.customer_id
        )
    )
    return schemas.Success()


def list_entities(ctx: RequestContext, body: ListRequest) -> dict[str, Any]:
    page, cursor = ctx.write(
        lambda store, now, _: entity_service.list_page(
            store,
            now,
            customer_id=body.customer_id,
            start_cursor=body.start_cursor,
            limit=body.limit,
        )
    )
    return {"list": page, "next_cursor": cursor}

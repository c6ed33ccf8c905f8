"""`customers.*`, `entities.*` and `billing.*` of a tenant session.

Each method validates its keywords with the operation's request model (`wire.requests`) and
hands the model to its `<method>_from`, which the HTTP handlers call with the model they
validated: one validation, the same code and message either way. The services answer domain
views; they are presented here (`wire.present`)."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.domain.catalog import validate_id
from allotment.domain.errors import invalid
from allotment.services import customers as customer_service
from allotment.services import entities as entity_service
from allotment.session.namespace import Namespace, keywords
from allotment.wire import present
from allotment.wire.requests import (
    AttachRequest,
    CustomerIdRequest,
    CustomerRequest,
    EntityRequest,
    ListRequest,
    TestClockRequest,
    parse,
)


def _customer(view: customer_service.CustomerView) -> schemas.Customer:
    return present.customer(view.record, view.env, view.attached, view.grants, view.features)


def _entity(view: entity_service.EntityView) -> schemas.Entity:
    return present.entity(
        view.entity, view.customer, view.env, view.attached, view.grants, view.features
    )


class Customers(Namespace):
    def get_or_create(
        self,
        *,
        customer_id: str,
        name: str | None = None,
        email: str | None = None,
        fingerprint: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> schemas.Customer:
        fields = keywords(locals())
        return self.get_or_create_from(parse(CustomerRequest, fields))

    def get_or_create_from(self, request: CustomerRequest) -> schemas.Customer:
        customer_id = request.customer_id or request.id
        if customer_id is None:
            raise invalid("customer_id is required (anonymous customers are not supported yet)")
        view = self._write(
            lambda store, now, write: customer_service.get_or_create(
                store,
                now,
                customer_id=customer_id,
                name=request.name,
                email=request.email,
                fingerprint=request.fingerprint,
                metadata=request.metadata,
                write=write,
            )
        )
        return _customer(view)

    def get(self, *, customer_id: str) -> schemas.Customer:
        return self.get_from(parse(CustomerIdRequest, {"customer_id": customer_id}))

    def get_from(self, request: CustomerIdRequest) -> schemas.Customer:
        view = self._read(
            lambda store, now, write: customer_service.get(
                store, now, request.customer_id, write=write
            )
        )
        return _customer(view)

    def list(
        self, *, start_cursor: str | None = None, limit: int | None = None
    ) -> tuple[builtins.list[schemas.Customer], str | None]:
        return self.list_from(parse(ListRequest, {"start_cursor": start_cursor, "limit": limit}))

    def list_from(self, request: ListRequest) -> tuple[builtins.list[schemas.Customer], str | None]:
        views, cursor = self._write(
            lambda store, now, _: customer_service.list_page(
                store, now, start_cursor=request.start_cursor or None, limit=request.limit
            )
        )
        return [_customer(v) for v in views], cursor

    def update(
        self,
        *,
        customer_id: str,
        name: str | None = None,
        email: str | None = None,
        fingerprint: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> schemas.Customer:
        fields = keywords(locals())
        return self.update_from(parse(CustomerRequest, fields))

    def update_from(self, request: CustomerRequest) -> schemas.Customer:
        customer_id = validate_id(request.customer_id or request.id, "customer_id")
        view = self._write(
            lambda store, now, _: customer_service.update(
                store,
                now,
                customer_id=customer_id,
                name=request.name,
                email=request.email,
                fingerprint=request.fingerprint,
                metadata=request.metadata,
            )
        )
        return _customer(view)

    def delete(self, *, customer_id: str) -> schemas.Success:
        return self.delete_from(parse(CustomerIdRequest, {"customer_id": customer_id}))

    def delete_from(self, request: CustomerIdRequest) -> schemas.Success:
        self._write(lambda store, now, _: customer_service.delete(store, now, request.customer_id))
        return schemas.Success()

    def advance_test_clock(self, *, customer_id: str, frozen_time: int) -> schemas.TestClock:
        """Sandbox: move the customer's clock forward to `frozen_time` (Unix ms)."""
        fields = keywords(locals())
        return self.advance_test_clock_from(parse(TestClockRequest, fields))

    def advance_test_clock_from(self, request: TestClockRequest) -> schemas.TestClock:
        moved = self._write(
            lambda store, now, _: customer_service.advance_test_clock(
                store, now, customer_id=request.customer_id, frozen_time=request.frozen_time
            )
        )
        return schemas.TestClock(
            customer_id=moved.customer_id, frozen_time=moved.frozen_time, status="ready"
        )


class Billing(Namespace):
    def attach(
        self,
        *,
        customer_id: str,
        plan_id: str,
        version: int | None = None,
        entity_id: str | None = None,
        redirect_mode: str | None = None,
        success_url: str | None = None,
    ) -> schemas.AttachResponse:
        """`redirect_mode` and `success_url` are accepted for Autumn's clients and ignored
        (no checkout without prices)."""
        fields = {
            "customer_id": customer_id,
            "plan_id": plan_id,
            "version": version,
            "entity_id": entity_id,
        }
        return self.attach_from(parse(AttachRequest, fields))

    def attach_from(self, request: AttachRequest) -> schemas.AttachResponse:
        plan_id = request.chosen_plan_id()
        attached = self._write(
            lambda store, now, _: customer_service.attach(
                store,
                now,
                customer_id=request.customer_id,
                plan_id=plan_id,
                version=request.version,
                entity_id=request.entity_id,
            )
        )
        return schemas.AttachResponse(
            customer_id=attached.customer_id, entity_id=attached.entity_id, payment_url=None
        )


class Entities(Namespace):
    def create(
        self,
        *,
        customer_id: str,
        entity_id: str,
        feature_id: str | None = None,
        name: str | None = None,
    ) -> schemas.Entity:
        fields = keywords(locals())
        return self.create_from(parse(EntityRequest, fields))

    def create_from(self, request: EntityRequest) -> schemas.Entity:
        view = self._write(
            lambda store, now, _: entity_service.create(
                store,
                now,
                customer_id=request.customer_id,
                entity_id=request.entity_id,
                feature_id=request.feature_id,
                name=request.name,
            )
        )
        return _entity(view)

    def get(self, *, entity_id: str, customer_id: str | None = None) -> schemas.Entity:
        fields = keywords(locals())
        return self.get_from(parse(EntityRequest, fields))

    def get_from(self, request: EntityRequest) -> schemas.Entity:
        view = self._read(
            lambda store, now, write: entity_service.get(
                store,
                now,
                entity_id=request.entity_id,
                customer_id=request.customer_id,
                write=write,
            )
        )
        return _entity(view)

    def list(
        self,
        *,
        customer_id: str | None = None,
        start_cursor: str | None = None,
        limit: int | None = None,
    ) -> tuple[builtins.list[schemas.Entity], str | None]:
        fields = keywords(locals())
        return self.list_from(parse(ListRequest, fields))

    def list_from(self, request: ListRequest) -> tuple[builtins.list[schemas.Entity], str | None]:
        views, cursor = self._write(
            lambda store, now, _: entity_service.list_page(
                store,
                now,
                customer_id=request.customer_id,
                start_cursor=request.start_cursor,
                limit=request.limit,
            )
        )
        return [_entity(v) for v in views], cursor

    def update(
        self, *, entity_id: str, customer_id: str | None = None, name: str | None = None
    ) -> schemas.Entity:
        fields = keywords(locals())
        return self.update_from(parse(EntityRequest, fields))

    def update_from(self, request: EntityRequest) -> schemas.Entity:
        view = self._write(
            lambda store, now, _: entity_service.update(
                store,
                now,
                entity_id=request.entity_id,
                customer_id=request.customer_id,
                name=request.name,
            )
        )
        return _entity(view)

    def delete(self, *, entity_id: str, customer_id: str | None = None) -> schemas.Success:
        fields = keywords(locals())
        return self.delete_from(parse(EntityRequest, fields))

    def delete_from(self, request: EntityRequest) -> schemas.Success:
        self._write(
            lambda store, now, _: entity_service.delete(
                store, now, entity_id=request.entity_id, customer_id=request.customer_id
            )
        )
        return schemas.Success()

"""`customers.*`, `entities.*` and `billing.*` of the embedded API."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.services import customers as customer_service
from allotment.services import entities as entity_service
from allotment.session.namespace import Namespace


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
        return self._write(
            lambda store, now, write: customer_service.get_or_create(
                store,
                now,
                customer_id=customer_id,
                name=name,
                email=email,
                fingerprint=fingerprint,
                metadata=metadata,
                write=write,
            )
        )

    def get(self, *, customer_id: str) -> schemas.Customer:
        return self._read(
            lambda store, now, write: customer_service.get(store, now, customer_id, write=write)
        )

    def list(
        self, *, start_cursor: str | None = None, limit: int | None = None
    ) -> tuple[builtins.list[schemas.Customer], str | None]:
        return self._write(
            lambda store, now, _: customer_service.list_page(
                store, now, start_cursor=start_cursor or None, limit=limit
            )
        )

    def update(
        self,
        *,
        customer_id: str,
        name: str | None = None,
        email: str | None = None,
        fingerprint: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> schemas.Customer:
        return self._write(
            lambda store, now, _: customer_service.update(
                store,
                now,
                customer_id=customer_id,
                name=name,
                email=email,
                fingerprint=fingerprint,
                metadata=metadata,
            )
        )

    def delete(self, *, customer_id: str) -> schemas.Success:
        self._write(lambda store, now, _: customer_service.delete(store, now, customer_id))
        return schemas.Success()

    def advance_test_clock(self, *, customer_id: str, frozen_time: int) -> schemas.TestClock:
        """Sandbox: move the customer's clock forward to `frozen_time` (Unix ms)."""
        return self._write(
            lambda store, now, _: customer_service.advance_test_clock(
                store, now, customer_id=customer_id, frozen_time=frozen_time
            )
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
        return self._write(
            lambda store, now, _: customer_service.attach(
                store,
                now,
                customer_id=customer_id,
                plan_id=plan_id,
                version=version,
                entity_id=entity_id,
            )
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
        return self._write(
            lambda store, now, _: entity_service.create(
                store,
                now,
                customer_id=customer_id,
                entity_id=entity_id,
                feature_id=feature_id,
                name=name,
            )
        )

    def get(self, *, entity_id: str, customer_id: str | None = None) -> schemas.Entity:
        return self._read(
            lambda store, now, write: entity_service.get(
                store, now, entity_id=entity_id, customer_id=customer_id, write=write
            )
        )

    def list(
        self,
        *,
        customer_id: str | None = None,
        start_cursor: str | None = None,
        limit: int | None = None,
    ) -> tuple[builtins.list[schemas.Entity], str | None]:
        return self._write(
            lambda store, now, _: entity_service.list_page(
                store, now, customer_id=customer_id, start_cursor=start_cursor, limit=limit
            )
        )

    def update(
        self, *, entity_id: str, customer_id: str | None = None, name: str | None = None
    ) -> schemas.Entity:
        return self._write(
            lambda store, now, _: entity_service.update(
                store, now, entity_id=entity_id, customer_id=customer_id, name=name
            )
        )

    def delete(self, *, entity_id: str, customer_id: str | None = None) -> schemas.Success:
        self._write(
            lambda store, now, _: entity_service.delete(
                store, now, entity_id=entity_id, customer_id=customer_id
            )
        )
        return schemas.Success()

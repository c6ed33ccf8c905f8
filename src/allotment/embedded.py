"""The embedded engine: `Allotment` mirrors the official `autumn_sdk.Autumn` client keyword
for keyword, so code written for that client runs in-process by changing the constructor.

Each call is one transaction, owned here (services never commit). Reads run in a read
transaction; when a lazy reset turns out to be due they rerun as a write.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from allotment import schemas
from allotment.domain.clock import Clock
from allotment.domain.errors import invalid
from allotment.runner import Operation, Runner
from allotment.services import customers as customer_service
from allotment.services import entities as entity_service
from allotment.services import events as event_service
from allotment.services import features as feature_service
from allotment.services import grants as grant_service
from allotment.services import ledger as ledger_service
from allotment.services import locks as lock_service
from allotment.services import plans as plan_service
from allotment.services import usage as usage_service
from allotment.storage.database import Database
from allotment.storage.store import Store

__all__ = ["Allotment"]

T = TypeVar("T")
ENVIRONMENTS = ("sandbox", "live")


class Allotment:
    """`Allotment(database_url=None, *, org="default", env="sandbox", clock=None)`.

    `database_url`: a SQLite file (default `./allotment.db`, or `ALLOTMENT_DATABASE_URL`) or
    `postgresql://...`. One org and environment per instance; `clock` returns aware UTC
    datetimes (tests and simulations travel in time with it)."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        org: str = "default",
        env: str = "sandbox",
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> None:
        if env not in ENVIRONMENTS:
            raise invalid("env must be sandbox or live")
        if not org or len(org) > 64:
            raise invalid("org must be a non-empty string of at most 64 characters")
        self.org = org
        self.env = env
        self.database = Database(database_url)
        if migrate:
            self.database.migrate()
        self.runner = Runner(self.database, clock)
        self.features = Features(self)
        self.plans = Plans(self)
        self.customers = Customers(self)
        self.billing = Billing(self)
        self.events = Events(self)
        self.balances = Balances(self)
        self.entities = Entities(self)

    def now(self) -> datetime:
        return self.runner.now()

    def close(self) -> None:
        self.database.dispose()

    def __enter__(self) -> Allotment:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, operation: Operation[T], *, write: bool) -> T:
        return self.runner.run(self.org, self.env, operation, write=write)

    # balances ------------------------------------------------------------------------

    def check(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        required_balance: Any = None,
        properties: dict[str, Any] | None = None,
        send_event: bool | None = None,
        lock: dict[str, Any] | None = None,
        with_preview: bool | None = None,
    ) -> schemas.CheckResponse:
        return self._run(
            lambda store, now, write: usage_service.check(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                lock=lock,
                required_balance=required_balance,
                send_event=send_event,
                properties=properties,
                write=write,
            ),
            write=bool(send_event) or lock is not None,
        )

    def track(
        self,
        *,
        customer_id: str,
        feature_id: str | None = None,
        entity_id: str | None = None,
        event_name: str | None = None,
        value: Any = None,
        properties: dict[str, Any] | None = None,
        timestamp: int | None = None,
        overage_behavior: str | None = None,
        idempotency_key: str | None = None,
        async_: bool | None = None,
    ) -> schemas.TrackResponse:
        return self._run(
            lambda store, now, _write: usage_service.track(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                event_name=event_name,
                value=value,
                properties=properties,
                timestamp=timestamp,
                idempotency_key=idempotency_key,
                overage_behavior=overage_behavior,
            ),
            write=True,
        )

    def verify(self) -> schemas.LedgerReport:
        """Fold every ledger entry of this org and environment into balances and compare them
        with the stored balances."""
        return self._run(lambda store, _now, _write: ledger_service.verify(store), write=False)


class _Namespace:
    def __init__(self, engine: Allotment) -> None:
        self._engine = engine

    def _read(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._engine._run(operation, write=False)

    def _write(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._engine._run(operation, write=True)


class Features(_Namespace):
    def create(
        self,
        *,
        feature_id: str,
        name: str | None = None,
        type_: str | None = None,
        consumable: bool | None = None,
        credit_schema: builtins.list[dict[str, Any]] | None = None,
        event_names: builtins.list[str] | None = None,
        display: dict[str, Any] | None = None,
    ) -> schemas.Feature:
        return self._write(
            lambda store, now, _: feature_service.create(
                store,
                now,
                feature_id=feature_id,
                name=name,
                type_=type_,
                consumable=consumable,
                credit_schema=credit_schema,
                event_names=event_names,
                display=display,
            )
        )

    def get(self, *, feature_id: str) -> schemas.Feature:
        return self._read(lambda store, _now, _: feature_service.get(store, feature_id))

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Feature]:
        return self._read(
            lambda store, _now, _: feature_service.list_all(
                store, include_archived=include_archived
            )
        )

    def update(
        self,
        *,
        feature_id: str,
        name: str | None = None,
        type_: str | None = None,
        consumable: bool | None = None,
        credit_schema: builtins.list[dict[str, Any]] | None = None,
        event_names: builtins.list[str] | None = None,
        display: dict[str, Any] | None = None,
        archived: bool | None = None,
    ) -> schemas.Feature:
        return self._write(
            lambda store, _now, _: feature_service.update(
                store,
                feature_id=feature_id,
                name=name,
                type_=type_,
                consumable=consumable,
                credit_schema=credit_schema,
                event_names=event_names,
                display=display,
                archived=archived,
            )
        )

    def delete(self, *, feature_id: str) -> None:
        self._write(lambda store, _now, _: feature_service.delete(store, feature_id))


class Plans(_Namespace):
    def create(
        self,
        *,
        plan_id: str,
        name: str | None = None,
        group: str | None = None,
        description: str | None = None,
        add_on: bool | None = None,
        auto_enable: bool | None = None,
        price: dict[str, Any] | None = None,
        items: builtins.list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        create_in_stripe: bool | None = None,
    ) -> schemas.Plan:
        return self._write(
            lambda store, now, _: plan_service.create(
                store,
                now,
                plan_id=plan_id,
                name=name,
                description=description,
                group=group or None,
                add_on=add_on,
                auto_enable=auto_enable,
                items=items,
                metadata=metadata,
                price=price,
            )
        )

    def get(self, *, plan_id: str, version: int | None = None) -> schemas.Plan:
        return self._read(lambda store, _now, _: plan_service.get(store, plan_id, version))

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Plan]:
        return self._read(
            lambda store, _now, _: plan_service.list_all(store, include_archived=include_archived)
        )

    def update(
        self,
        *,
        plan_id: str,
        group: str | None = None,
        name: str | None = None,
        description: str | None = None,
        add_on: bool | None = None,
        auto_enable: bool | None = None,
        items: builtins.list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        archived: bool | None = None,
    ) -> schemas.Plan:
        return self._write(
            lambda store, now, _: plan_service.update(
                store,
                now,
                plan_id=plan_id,
                name=name,
                description=description,
                group=group,
                add_on=add_on,
                auto_enable=auto_enable,
                items=items,
                metadata=metadata,
                archived=archived,
            )
        )

    def delete(self, *, plan_id: str) -> None:
        self._write(lambda store, _now, _: plan_service.delete(store, plan_id))


class Customers(_Namespace):
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
        self, *, start_cursor: str | None = None, limit: int = 50
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


class Billing(_Namespace):
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


class Events(_Namespace):
    def list(
        self,
        *,
        customer_id: str | None = None,
        feature_id: str | builtins.list[str] | None = None,
        custom_range: dict[str, int] | None = None,
        start_cursor: str | None = None,
        limit: int = 50,
    ) -> schemas.EventsPage:
        return self._read(
            lambda store, _now, _: event_service.list_page(
                store,
                customer_id=customer_id,
                feature_id=feature_id,
                custom_range=custom_range,
                start_cursor=start_cursor or None,
                limit=limit,
            )
        )


class Balances(_Namespace):
    def finalize(
        self,
        *,
        lock_id: str,
        action: str,
        override_value: Any = None,
        properties: dict[str, Any] | None = None,
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: lock_service.finalize(
                store, now, lock_id=lock_id, action=action, override_value=override_value
            )
        )
        return schemas.Success()

    def create(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        included_grant: Any = None,
        unlimited: bool | None = None,
        reset: dict[str, Any] | None = None,
        rollover: dict[str, Any] | None = None,
        expires_at: int | None = None,
        balance_id: str | None = None,
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: grant_service.create(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                included_grant=included_grant,
                unlimited=unlimited,
                reset=reset,
                expires_at=expires_at,
                rollover=rollover,
                balance_id=balance_id,
            )
        )
        return schemas.Success()

    def update(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        remaining: Any = None,
        add_to_balance: Any = None,
        usage: Any = None,
        included_grant: Any = None,
        balance_id: str | None = None,
        interval: str | None = None,
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: grant_service.update(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                remaining=remaining,
                add_to_balance=add_to_balance,
                usage=usage,
                included_grant=included_grant,
                balance_id=balance_id,
                interval=interval,
            )
        )
        return schemas.Success()

    def delete(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        balance_id: str | None = None,
        interval: str | None = None,
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: grant_service.delete(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                balance_id=balance_id,
                interval=interval,
            )
        )
        return schemas.Success()


class Entities(_Namespace):
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
        self, *, customer_id: str | None = None, start_cursor: str | None = None, limit: int = 50
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

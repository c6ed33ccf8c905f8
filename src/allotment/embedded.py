"""The embedded engine: `Allotment` mirrors the official `autumn_sdk.Autumn` client keyword
for keyword, so code written for that client runs in-process by changing the constructor.

Each call is one transaction, owned here (services never commit). Reads run in a read
transaction; when a lazy reset turns out to be due they rerun as a write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from allotment import wire as schemas
from allotment.domain.clock import Clock
from allotment.domain.errors import invalid
from allotment.embedded_api.balances import Balances, Events
from allotment.embedded_api.catalog import Features, Plans
from allotment.embedded_api.customers import Billing, Customers, Entities
from allotment.runner import Operation, Runner
from allotment.services import ledger as ledger_service
from allotment.services import usage as usage_service
from allotment.storage.database import Database

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

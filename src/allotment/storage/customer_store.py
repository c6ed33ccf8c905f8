"""SQL for customers and the plans attached to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, insert, select, update

from allotment import jsonio
from allotment.domain.clock import from_ms, to_ms
from allotment.storage.raw import RawStatement
from allotment.storage.records import CustomerPlanRecord, CustomerRecord
from allotment.storage.scoped import ScopedStore, tenant_of
from allotment.storage.tables import customer_plans, customers

_BY_ID_SQL = (
    "SELECT id, customer_id, name, email, fingerprint, metadata, created_at, clock_at"
    " FROM customers"
    " WHERE org = :tenant_org AND env = :tenant_env AND customer_id = :customer_id"
)
_BY_ID = RawStatement(_BY_ID_SQL)
_BY_ID_LOCKED = RawStatement(_BY_ID_SQL + " FOR UPDATE")
_BY_INTERNAL_ID = select(customers).where(
    tenant_of(customers), customers.c.id == bindparam("internal_id")
)
_BY_INTERNAL_ID_LOCKED = _BY_INTERNAL_ID.with_for_update()


class CustomerStore(ScopedStore):
    _offered: tuple[str, bool, CustomerRecord] | None = None  # Store.prefetch_customer

    def offer(self, row: Any, *, locked: bool) -> None:
        self._offered = (row["customer_id"], locked, self._record(row))

    @staticmethod
    def _record(row: Any) -> CustomerRecord:
        return CustomerRecord(
            internal_id=row["id"],
            customer_id=row["customer_id"],
            name=row["name"],
            email=row["email"],
            fingerprint=row["fingerprint"],
            metadata=jsonio.loads(row["metadata"]),
            created_at=from_ms(row["created_at"]),
            clock_at=from_ms(row["clock_at"]) if row["clock_at"] is not None else None,
        )

    def get(self, customer_id: str, *, lock: bool = False) -> CustomerRecord | None:
        """Read a customer. With `lock`, hold its row until the transaction ends: every write
        to a customer's balances takes this lock first (on SQLite the write transaction itself
        is the lock)."""
        offered = self._offered
        if offered is not None and offered[0] == customer_id and (offered[1] or not lock):
            self._offered = None
            return offered[2]
        sqlite = self._connection.dialect.name == "sqlite"
        query = _BY_ID_LOCKED if lock and not sqlite else _BY_ID
        rows = query.rows(self._connection, self._scope(customer_id=customer_id))
        return self._record(rows[0]) if rows else None

    def get_internal(self, internal_id: int, *, lock: bool = False) -> CustomerRecord | None:
        query = _BY_INTERNAL_ID_LOCKED if lock else _BY_INTERNAL_ID
        rows = self._connection.execute(query, self._scope(internal_id=internal_id)).mappings()
        found = rows.first()
        return self._record(found) if found else None

    def insert(
        self,
        customer_id: str,
        name: str | None,
        email: str | None,
        fingerprint: str | None,
        metadata: dict[str, Any],
        now: datetime,
    ) -> CustomerRecord:
        internal_id = self._connection.execute(
            insert(customers)
            .values(
                org=self._org,
                env=self._env,
                customer_id=customer_id,
                name=name,
                email=email,
                fingerprint=fingerprint,
                metadata=jsonio.dumps(metadata),
                created_at=to_ms(now),
            )
            .returning(customers.c.id)
        ).scalar_one()
        return CustomerRecord(
            int(internal_id), customer_id, name, email, fingerprint, metadata, now
        )

    def update(self, internal_id: int, values: dict[str, Any]) -> None:
        if "metadata" in values:
            values = {**values, "metadata": jsonio.dumps(values["metadata"])}
        self._connection.execute(
            update(customers)
            .where(self._tenant(customers), customers.c.id == internal_id)
            .values(**values)
        )

    def delete(self, internal_id: int) -> None:
        """Customers are never removed (their ledger stays); a deleted one gives up its id."""
        self._connection.execute(
            update(customers)
            .where(self._tenant(customers), customers.c.id == internal_id)
            .values(customer_id=customers.c.customer_id + "#deleted#" + customers.c.id.cast(String))
        )

    def page(self, after_internal_id: int, limit: int) -> list[CustomerRecord]:
        rows = self._connection.execute(
            select(customers)
            .where(
                self._tenant(customers),
                customers.c.id > after_internal_id,
                ~customers.c.customer_id.contains("#deleted#"),
            )
            .order_by(customers.c.id)
            .limit(limit)
        ).mappings()
        return [self._record(r) for r in rows]

    # attached plans -------------------------------------------------------------------

    @staticmethod
    def _plan_record(row: Any) -> CustomerPlanRecord:
        return CustomerPlanRecord(
            id=row["id"],
            customer_internal_id=row["customer_internal_id"],
            plan_internal_id=row["plan_internal_id"],
            plan_id=row["plan_id"],
            status=row["status"],
            started_at=from_ms(row["started_at"]),
            ended_at=from_ms(row["ended_at"]) if row["ended_at"] is not None else None,
        )

    def active_plans(
        self, customer_internal_id: int, entity_internal_id: int | None = None
    ) -> list[CustomerPlanRecord]:
        """The plans attached to the customer itself, or to one of its entities."""
        rows = self._connection.execute(
            select(customer_plans)
            .where(
                self._tenant(customer_plans),
                customer_plans.c.customer_internal_id == customer_internal_id,
                customer_plans.c.entity_internal_id.is_(None)
                if entity_internal_id is None
                else customer_plans.c.entity_internal_id == entity_internal_id,
                customer_plans.c.status == "active",
            )
            .order_by(customer_plans.c.id)
        ).mappings()
        return [self._plan_record(r) for r in rows]

    def attach_plan(
        self,
        customer_internal_id: int,
        plan_internal_id: int,
        plan_id: str,
        now: datetime,
        entity_internal_id: int | None = None,
    ) -> int:
        return int(
            self._connection.execute(
                insert(customer_plans)
                .values(
                    org=self._org,
                    env=self._env,
                    customer_internal_id=customer_internal_id,
                    plan_internal_id=plan_internal_id,
                    plan_id=plan_id,
                    entity_internal_id=entity_internal_id,
                    status="active",
                    started_at=to_ms(now),
                )
                .returning(customer_plans.c.id)
            ).scalar_one()
        )

    def end_plans(self, customer_plan_ids: Sequence[int], now: datetime) -> None:
        if not customer_plan_ids:
            return
        self._connection.execute(
            update(customer_plans)
            .where(self._tenant(customer_plans), customer_plans.c.id.in_(customer_plan_ids))
            .values(status="expired", ended_at=to_ms(now))
        )

    def end_entity_plans(
        self, customer_internal_id: int, entity_internal_id: int, now: datetime
    ) -> None:
        self._connection.execute(
            update(customer_plans)
            .where(
                self._tenant(customer_plans),
                customer_plans.c.customer_internal_id == customer_internal_id,
                customer_plans.c.entity_internal_id == entity_internal_id,
                customer_plans.c.status == "active",
            )
            .values(status="expired", ended_at=to_ms(now))
        )

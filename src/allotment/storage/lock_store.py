"""SQL for locks (reservations taken by check with `lock`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from allotment.domain.clock import from_ms, to_ms
from allotment.storage.raw import RawStatement
from allotment.storage.records import LockRecord
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import locks

_EXPIRED_HELD = RawStatement(
    "SELECT * FROM locks WHERE org = :tenant_org AND env = :tenant_env"
    " AND customer_internal_id = :customer AND status = 'held' AND expires_at <= :now"
    " ORDER BY id"
)


class LockStore(ScopedStore):
    @staticmethod
    def _record(row: Any) -> LockRecord:
        return LockRecord(
            id=row["id"],
            lock_id=row["lock_id"],
            customer_internal_id=row["customer_internal_id"],
            entity_internal_id=row["entity_internal_id"],
            feature_id=row["feature_id"],
            event_id=row["event_id"],
            value=row["value"],
            status=row["status"],
            expires_at=from_ms(row["expires_at"]),
        )

    def held_for_event(self, event_id: int) -> bool:
        found = self._connection.execute(
            select(locks.c.id).where(
                self._tenant(locks), locks.c.event_id == event_id, locks.c.status == "held"
            )
        ).first()
        return found is not None

    def get(self, lock_id: str) -> LockRecord | None:
        row = (
            self._connection.execute(
                select(locks).where(self._tenant(locks), locks.c.lock_id == lock_id)
            )
            .mappings()
            .first()
        )
        return self._record(row) if row else None

    _first_expiry: tuple[int, int | None] | None = None  # Store.prefetch_customer

    def offer_first_expiry(self, customer_internal_id: int, expires_at_ms: int | None) -> None:
        self._first_expiry = (customer_internal_id, expires_at_ms)

    def expired_held(self, customer_internal_id: int, now: datetime) -> list[LockRecord]:
        offered = self._first_expiry
        if offered is not None and offered[0] == customer_internal_id:
            self._first_expiry = None
            if offered[1] is None or offered[1] > to_ms(now):
                return []
        rows = _EXPIRED_HELD.rows(
            self._connection, self._scope(customer=customer_internal_id, now=to_ms(now))
        )
        return [self._record(r) for r in rows]

    def insert(
        self,
        *,
        lock_id: str,
        customer_internal_id: int,
        entity_internal_id: int | None,
        feature_id: str,
        event_id: int | None,
        value: int,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        self._connection.execute(
            insert(locks).values(
                org=self._org,
                env=self._env,
                lock_id=lock_id,
                customer_internal_id=customer_internal_id,
                entity_internal_id=entity_internal_id,
                feature_id=feature_id,
                event_id=event_id,
                value=value,
                status="held",
                expires_at=to_ms(expires_at),
                created_at=to_ms(now),
            )
        )

    def finish(self, lock: LockRecord, status: str, value: int, now: datetime) -> bool:
        """Compare-and-set from `held`: exactly one finalisation (or expiry) wins."""
        result = self._connection.execute(
            update(locks)
            .where(self._tenant(locks), locks.c.id == lock.id, locks.c.status == "held")
            .values(status=status, value=value, finalized_at=to_ms(now))
        )
        return result.rowcount == 1

"""SQL for entities (seats, workspaces, ... inside a customer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, insert, select, update

from allotment.domain.clock import from_ms, to_ms
from allotment.storage.records import EntityRecord
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import entities


class EntityStore(ScopedStore):
    def _live(self) -> Any:
        return self._tenant(entities) & ~entities.c.deleted

    @staticmethod
    def _record(row: Any) -> EntityRecord:
        return EntityRecord(
            internal_id=row["id"],
            customer_internal_id=row["customer_internal_id"],
            entity_id=row["entity_id"],
            name=row["name"],
            feature_id=row["feature_id"],
            created_at=from_ms(row["created_at"]),
        )

    def get(self, customer_internal_id: int, entity_id: str) -> EntityRecord | None:
        row = (
            self._connection.execute(
                select(entities).where(
                    self._live(),
                    entities.c.customer_internal_id == customer_internal_id,
                    entities.c.entity_id == entity_id,
                )
            )
            .mappings()
            .first()
        )
        return self._record(row) if row else None

    def find(self, entity_id: str) -> list[EntityRecord]:
        """Every live entity with this id, across the customers (at most two are read)."""
        rows = self._connection.execute(
            select(entities)
            .where(self._live(), entities.c.entity_id == entity_id)
            .order_by(entities.c.id)
            .limit(2)
        ).mappings()
        return [self._record(r) for r in rows]

    def of_customer(self, customer_internal_id: int) -> list[EntityRecord]:
        rows = self._connection.execute(
            select(entities)
            .where(self._live(), entities.c.customer_internal_id == customer_internal_id)
            .order_by(entities.c.id)
        ).mappings()
        return [self._record(r) for r in rows]

    def page(
        self, customer_internal_id: int | None, after_id: int, limit: int
    ) -> list[EntityRecord]:
        query = select(entities).where(self._live(), entities.c.id > after_id)
        if customer_internal_id is not None:
            query = query.where(entities.c.customer_internal_id == customer_internal_id)
        rows = self._connection.execute(query.order_by(entities.c.id).limit(limit)).mappings()
        return [self._record(r) for r in rows]

    def insert(
        self,
        customer_internal_id: int,
        entity_id: str,
        name: str | None,
        feature_id: str | None,
        now: datetime,
    ) -> EntityRecord:
        # a deleted entity keeps its row (its grants and entries point at it); reuse frees the id
        self._connection.execute(
            update(entities)
            .where(
                self._tenant(entities),
                entities.c.customer_internal_id == customer_internal_id,
                entities.c.entity_id == entity_id,
                entities.c.deleted,
            )
            .values(entity_id=entities.c.entity_id + "#deleted#" + entities.c.id.cast(String))
        )
        internal_id = self._connection.execute(
            insert(entities)
            .values(
                org=self._org,
                env=self._env,
                customer_internal_id=customer_internal_id,
                entity_id=entity_id,
                name=name,
                feature_id=feature_id,
                deleted=False,
                created_at=to_ms(now),
            )
            .returning(entities.c.id)
        ).scalar_one()
        return EntityRecord(
            int(internal_id), customer_internal_id, entity_id, name, feature_id, now
        )

    def rename(self, internal_id: int, name: str | None) -> None:
        self._connection.execute(
            update(entities).where(self._live(), entities.c.id == internal_id).values(name=name)
        )

    def delete(self, internal_id: int) -> None:
        self._connection.execute(
            update(entities).where(self._live(), entities.c.id == internal_id).values(deleted=True)
        )

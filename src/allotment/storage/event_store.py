"""SQL for usage events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update

from allotment import jsonio
from allotment.domain.clock import from_ms, to_ms
from allotment.storage.raw import RawStatement
from allotment.storage.records import EventRecord
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import events
from allotment.storage.write_buffer import WriteBuffer

_INSERT = RawStatement(
    "INSERT INTO events (org, env, customer_internal_id, customer_id, feature_id, event_name,"
    " value, unapplied, properties, timestamp, idempotency_key, created_at) VALUES (:org, :env,"
    " :customer_internal_id, :customer_id, :feature_id, :event_name, :value, :unapplied,"
    " :properties, :timestamp, :idempotency_key, :created_at) RETURNING id"
)
_INSERT_WITH_ID = RawStatement(
    "INSERT INTO events (id, org, env, customer_internal_id, customer_id, feature_id,"
    " event_name, value, unapplied, properties, timestamp, idempotency_key, created_at) VALUES"
    " (:id, :org, :env, :customer_internal_id, :customer_id, :feature_id, :event_name, :value,"
    " :unapplied, :properties, :timestamp, :idempotency_key, :created_at)"
)
_LAST_ID_SQLITE = RawStatement("SELECT COALESCE(MAX(id), 0) FROM events")
_NEXT_IDS_POSTGRES = RawStatement(
    "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :count)"
)
_KEYS_CHUNK = 500  # idempotency keys per IN (...) of keys_used


class EventStore(ScopedStore):
    buffer: WriteBuffer | None = None  # writes held for a batch (Store.hold_writes)

    def reserve_ids(self, count: int) -> list[int]:
        """`count` ids for events inserted later in this transaction. On SQLite the write
        transaction holds the only write lock, so the ids after the largest are free; on
        PostgreSQL they come from the table's sequence."""
        if count <= 0:
            return []
        if self._connection.dialect.name == "sqlite":
            last = int(_LAST_ID_SQLITE.scalar(self._connection, {}))
            return list(range(last + 1, last + 1 + count))
        return [
            row["nextval"] for row in _NEXT_IDS_POSTGRES.rows(self._connection, {"count": count})
        ]

    def keys_used(self, keys: Collection[str]) -> set[str]:
        """Those of `keys` some event of this tenant already carries."""
        found: set[str] = set()
        ordered = list(keys)
        for start in range(0, len(ordered), _KEYS_CHUNK):
            chunk = ordered[start : start + _KEYS_CHUNK]
            rows = self._connection.execute(
                select(events.c.idempotency_key).where(
                    self._tenant(events), events.c.idempotency_key.in_(chunk)
                )
            )
            found.update(row[0] for row in rows)
        return found

    def insert_held(self, buffer: WriteBuffer) -> None:
        """Write the events a batch held back (ids included)."""
        if buffer.events:
            _INSERT_WITH_ID.many(self._connection, buffer.events)

    def key_used(self, idempotency_key: str) -> bool:
        if self.buffer is not None:
            return idempotency_key in self.buffer.used_keys
        return bool(
            self._connection.scalar(
                select(
                    exists().where(
                        self._tenant(events), events.c.idempotency_key == idempotency_key
                    )
                )
            )
        )

    def insert(
        self,
        *,
        customer_internal_id: int,
        customer_id: str,
        feature_id: str | None,
        event_name: str | None,
        value: int,
        properties: dict[str, Any],
        timestamp: datetime,
        idempotency_key: str | None,
        now: datetime,
    ) -> int:
        row = {
            "org": self._org,
            "env": self._env,
            "customer_internal_id": customer_internal_id,
            "customer_id": customer_id,
            "feature_id": feature_id,
            "event_name": event_name,
            "value": value,
            "unapplied": 0,
            "properties": jsonio.dumps(properties),
            "timestamp": to_ms(timestamp),
            "idempotency_key": idempotency_key,
            "created_at": to_ms(now),
        }
        if self.buffer is not None:
            return self.buffer.add_event(row)
        return int(_INSERT.scalar(self._connection, row))

    def set_unapplied(self, event_id: int, unapplied: int) -> None:
        if self.buffer is not None and event_id in self.buffer.events_by_id:
            self.buffer.events_by_id[event_id]["unapplied"] = unapplied
            return
        self._connection.execute(
            update(events)
            .where(self._tenant(events), events.c.id == event_id)
            .values(unapplied=unapplied)
        )

    def set_value(self, event_id: int, value: int) -> None:
        self._connection.execute(
            update(events).where(self._tenant(events), events.c.id == event_id).values(value=value)
        )

    def in_range(
        self, *, customer_id: str | None, start: datetime, end: datetime
    ) -> list[EventRecord]:
        query = select(events).where(
            self._tenant(events),
            events.c.reversed_at.is_(None),  # a reversed event is no longer usage
            events.c.timestamp >= to_ms(start),
            events.c.timestamp < to_ms(end),
        )
        if customer_id is not None:
            query = query.where(events.c.customer_id == customer_id)
        rows = self._connection.execute(query.order_by(events.c.timestamp)).mappings()
        return [self._record(r) for r in rows]

    def page(
        self,
        *,
        customer_id: str | None,
        feature_ids: list[str] | None,
        start: datetime | None,
        end: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> list[EventRecord]:
        """Newest first; `before_id` is the cursor."""
        query = select(events).where(self._tenant(events))
        if customer_id is not None:
            query = query.where(events.c.customer_id == customer_id)
        if feature_ids is not None:
            query = query.where(events.c.feature_id.in_(feature_ids))
        if start is not None:
            query = query.where(events.c.timestamp >= to_ms(start))
        if end is not None:
            query = query.where(events.c.timestamp < to_ms(end))
        if before_id is not None:
            query = query.where(events.c.id < before_id)
        rows = self._connection.execute(query.order_by(events.c.id.desc()).limit(limit)).mappings()
        return [self._record(r) for r in rows]

    @staticmethod
    def _record(r: Any) -> EventRecord:
        return EventRecord(
            id=r["id"],
            customer_id=r["customer_id"],
            feature_id=r["feature_id"],
            event_name=r["event_name"],
            value=r["value"],
            unapplied=r["unapplied"],
            properties=jsonio.loads(r["properties"]),
            timestamp=from_ms(r["timestamp"]),
            idempotency_key=r["idempotency_key"],
            customer_internal_id=r["customer_internal_id"],
            reversed_at=from_ms(r["reversed_at"]) if r["reversed_at"] is not None else None,
        )

    def find(self, *, event_id: int | None, idempotency_key: str | None) -> EventRecord | None:
        query = select(events).where(self._tenant(events))
        if event_id is not None:
            query = query.where(events.c.id == event_id)
        if idempotency_key is not None:
            query = query.where(events.c.idempotency_key == idempotency_key)
        row = self._connection.execute(query).mappings().first()
        return self._record(row) if row is not None else None

    def mark_reversed(self, event_id: int, now: datetime) -> bool:
        """Compare-and-set: an event is reversed once."""
        result = self._connection.execute(
            update(events)
            .where(self._tenant(events), events.c.id == event_id, events.c.reversed_at.is_(None))
            .values(reversed_at=to_ms(now))
        )
        return result.rowcount == 1

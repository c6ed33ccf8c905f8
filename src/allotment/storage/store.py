"""The unit of work that services are handed: one open transaction, scoped to one org and
environment, with one repository per noun."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection

from allotment.storage.catalog_cache import CatalogCache
from allotment.storage.catalog_store import CatalogStore
from allotment.storage.customer_store import CustomerStore
from allotment.storage.entity_store import EntityStore
from allotment.storage.event_store import EventStore
from allotment.storage.grant_store import GrantStore
from allotment.storage.ledger_store import LedgerStore
from allotment.storage.lock_store import LockStore
from allotment.storage.plan_store import PlanStore
from allotment.storage.write_buffer import WriteBuffer

__all__ = ["Store"]


class Store:
    def __init__(
        self, connection: Connection, org: str, env: str, cache: CatalogCache | None = None
    ) -> None:
        self.connection = connection
        self.org = org
        self.env = env
        self.catalog = CatalogStore(connection, org, env, cache)
        self.plans = PlanStore(connection, org, env)
        self.customers = CustomerStore(connection, org, env)
        self.grants = GrantStore(connection, org, env)
        self.events = EventStore(connection, org, env)
        self.entities = EntityStore(connection, org, env)
        self.locks = LockStore(connection, org, env)
        self.ledger = LedgerStore(connection, (org, env))

    def hold_writes(self, events: int, keys: Collection[str]) -> WriteBuffer:
        """Hold back the writes of a batch of at most `events` events (see write_buffer);
        `keys`: the idempotency keys the batch carries, looked up once."""
        buffer = WriteBuffer(iter(self.events.reserve_ids(events)), self.events.keys_used(keys))
        self.events.buffer = buffer
        self.grants.buffer = buffer
        return buffer

    def flush_writes(self) -> None:
        """Write what `hold_writes` held: events, then entries, then balances."""
        buffer = self.events.buffer
        if buffer is None:
            return
        self.events.buffer = None
        self.grants.buffer = None
        self.events.insert_held(buffer)
        self.grants.write_held(buffer)

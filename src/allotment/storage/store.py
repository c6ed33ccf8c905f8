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
from allotment.storage.raw import RawStatement
from allotment.storage.write_buffer import WriteBuffer

__all__ = ["Store"]

_SUBJECT_SQL = (
    "SELECT c.id, c.customer_id, c.name, c.email, c.fingerprint, c.metadata, c.created_at,"
    " c.clock_at,"
    " (SELECT v.version FROM catalog_versions v"
    " WHERE v.org = :tenant_org AND v.env = :tenant_env) AS catalog_version,"
    " (SELECT MIN(l.expires_at) FROM locks l WHERE l.org = :tenant_org AND l.env = :tenant_env"
    " AND l.customer_internal_id = c.id AND l.status = 'held') AS first_lock_expiry"
    " FROM customers c"
    " WHERE c.org = :tenant_org AND c.env = :tenant_env AND c.customer_id = :customer_id"
)
_SUBJECT = RawStatement(_SUBJECT_SQL)
_SUBJECT_LOCKED = RawStatement(_SUBJECT_SQL + " FOR UPDATE OF c")


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

    def prefetch_customer(self, customer_id: str, *, lock: bool) -> None:
        """One statement for what check and track read first: the customer (locked, with
        `lock`, as `customers.get` locks it), the catalog version and when the customer's
        first held lock lapses. The next `customers.get` of that customer, the catalog's
        version check and the next `locks.expired_held` of that customer use them instead of a
        statement each (each once). Nothing is offered for a customer that does not exist."""
        sqlite = self.connection.dialect.name == "sqlite"
        query = _SUBJECT_LOCKED if lock and not sqlite else _SUBJECT
        rows = query.rows(
            self.connection,
            {"tenant_org": self.org, "tenant_env": self.env, "customer_id": customer_id},
        )
        if not rows:
            return
        row = rows[0]
        self.customers.offer(row, locked=lock)
        self.catalog.offer_version(int(row["catalog_version"] or 0))
        self.locks.offer_first_expiry(row["id"], row["first_lock_expiry"])

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

"""The unit of work for what spans every tenant: API keys (looked up before the tenant is
known), the whole ledger, and the health probe. Only `Runner.run_global` hands one out."""

from __future__ import annotations

from sqlalchemy import Connection, text

from allotment.storage.key_store import KeyStore
from allotment.storage.ledger_store import LedgerStore

__all__ = ["GlobalStore"]


class GlobalStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.keys = KeyStore(connection)
        self.ledger = LedgerStore(connection, None)

    def ping(self) -> None:
        """One round trip: the database answers."""
        self._connection.execute(text("SELECT 1"))

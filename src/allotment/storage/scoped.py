"""The base of every tenant-scoped repository: one connection, one org, one environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


class ScopedStore:
    def __init__(self, connection: Connection, org: str, env: str) -> None:
        self._connection = connection
        self._org = org
        self._env = env

    def _tenant(self, table: Any) -> Any:
        """The filter every query of this store carries."""
        return (table.c.org == self._org) & (table.c.env == self._env)

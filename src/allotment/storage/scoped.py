"""The base of every tenant-scoped repository: one connection, one org, one environment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam


def tenant_of(table: Any) -> Any:
    """The tenant filter with bound parameters `tenant_org` and `tenant_env`, for statements
    built once at import (building a statement costs more than running it on the hot path)."""
    return (table.c.org == bindparam("tenant_org")) & (table.c.env == bindparam("tenant_env"))


class ScopedStore:
    def __init__(self, connection: Connection, org: str, env: str) -> None:
        self._connection = connection
        self._org = org
        self._env = env

    def _tenant(self, table: Any) -> Any:
        """The filter every query of this store carries."""
        return (table.c.org == self._org) & (table.c.env == self._env)

    def _scope(self, **params: Any) -> dict[str, Any]:
        """Parameters for a prebuilt statement: the tenant plus `params`."""
        return {"tenant_org": self._org, "tenant_env": self._env, **params}

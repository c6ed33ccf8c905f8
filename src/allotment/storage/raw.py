"""Hot-path statements run on the driver itself (sqlite3 or psycopg), inside the transaction
SQLAlchemy opened. Building and compiling SQLAlchemy statements costs more than running them
on the check/track path (DESIGN.md, "Storage and concurrency"); everything else uses Core.

SQL is written once with `:name` parameters and rewritten to psycopg's `%(name)s`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

_NAMED = re.compile(r"(?<!:):(\w+)")


class RawStatement:
    def __init__(self, sql: str) -> None:
        self._sqlite = sql
        self._postgres = _NAMED.sub(r"%(\1)s", sql)

    def _sql(self, connection: Connection) -> str:
        return self._sqlite if connection.dialect.name == "sqlite" else self._postgres

    def _cursor(self, connection: Connection) -> Any:
        return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        cursor = self._cursor(connection)
        try:
            self._run(connection, cursor, params)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def scalar(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        cursor = self._cursor(connection)
        try:
            self._run(connection, cursor, params)
            row = cursor.fetchone()
            return row[0] if row is not None else None
        finally:
            cursor.close()

    def many(self, connection: Connection, params: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once per parameter set; returns the rows it changed in all."""
        cursor = self._cursor(connection)
        try:
            self._run(connection, cursor, params, many=True)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _run(self, connection: Connection, cursor: Any, params: Any, many: bool = False) -> None:
        """Execute, raising a driver error as SQLAlchemy's (`IntegrityError`,
        `OperationalError`, ...), as statements through SQLAlchemy raise them: the runner
        and the server handle those (a duplicate key, a database that went away)."""
        sql = self._sql(connection)
        try:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                sql, params, error, connection.dialect.loaded_dbapi.Error
            ) from error

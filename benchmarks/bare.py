"""The bare ceiling of a database and its driver: one transaction of a conditional
`UPDATE balances SET balance = balance - ? WHERE customer = ? AND balance >= ?` plus one event
`INSERT`, through `sqlite3` directly (WAL, `synchronous=NORMAL` and `BEGIN IMMEDIATE`, as the
engine configures SQLite) or psycopg 3 directly (prepared statements). Nothing else."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Protocol

import psycopg

from benchmarks.databases import sqlite_path
from benchmarks.seed import customer_name

__all__ = ["INITIAL_BALANCE", "TRACK_AMOUNT", "BareDatabase", "BareSession", "open_session"]

INITIAL_BALANCE = 10**15  # the engine's fixed-point scale: 10⁹ credits
TRACK_AMOUNT = 3_000_000  # one premium request: 3 credits

UPDATE_SQL = "UPDATE balances SET balance = balance - {p} WHERE customer = {p} AND balance >= {p}"
INSERT_SQL = "INSERT INTO events (customer, amount, created_at) VALUES ({p}, {p}, {p})"


class BareSession(Protocol):
    def deduct(self, customer: str, amount: int = TRACK_AMOUNT) -> bool: ...

    def close(self) -> None: ...


class _SqliteSession:
    def __init__(self, url: str) -> None:
        self.connection = sqlite3.connect(
            sqlite_path(url), isolation_level=None, check_same_thread=False, timeout=60
        )
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=60000"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.update = UPDATE_SQL.format(p="?")
        self.insert = INSERT_SQL.format(p="?")

    def deduct(self, customer: str, amount: int = TRACK_AMOUNT) -> bool:
        execute = self.connection.execute
        execute("BEGIN IMMEDIATE")
        try:
            if execute(self.update, (amount, customer, amount)).rowcount != 1:
                execute("ROLLBACK")
                return False
            execute(self.insert, (customer, amount, time.time_ns() // 1_000_000))
            execute("COMMIT")
            return True
        except BaseException:
            if self.connection.in_transaction:
                execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.connection.close()


class _PostgresSession:
    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url)
        self.update = UPDATE_SQL.format(p="%s")
        self.insert = INSERT_SQL.format(p="%s")

    def deduct(self, customer: str, amount: int = TRACK_AMOUNT) -> bool:
        connection = self.connection
        try:
            cursor = connection.execute(self.update, (amount, customer, amount), prepare=True)
            if cursor.rowcount != 1:
                connection.rollback()
                return False
            connection.execute(
                self.insert, (customer, amount, time.time_ns() // 1_000_000), prepare=True
            )
            connection.commit()
            return True
        except BaseException:
            connection.rollback()
            raise

    def close(self) -> None:
        self.connection.close()


def open_session(url: str) -> BareSession:
    return _SqliteSession(url) if url.startswith("sqlite") else _PostgresSession(url)


@dataclass(frozen=True)
class BareDatabase:
    url: str
    customers: int

    @classmethod
    def create(cls, url: str, customers: int) -> BareDatabase:
        rows = [(customer_name(i), INITIAL_BALANCE) for i in range(customers)]
        if url.startswith("sqlite"):
            lite = sqlite3.connect(sqlite_path(url))
            try:
                lite.execute("PRAGMA journal_mode=WAL")
                lite.execute(
                    "CREATE TABLE balances (customer TEXT PRIMARY KEY, balance INTEGER NOT NULL)"
                )
                lite.execute(
                    "CREATE TABLE events (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, "
                    "amount INTEGER NOT NULL, created_at INTEGER NOT NULL)"
                )
                lite.executemany("INSERT INTO balances VALUES (?, ?)", rows)
                lite.commit()
            finally:
                lite.close()
            return cls(url, customers)
        with psycopg.connect(url) as pg:
            pg.execute("CREATE TABLE balances (customer TEXT PRIMARY KEY, balance BIGINT NOT NULL)")
            pg.execute(
                "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, customer TEXT NOT NULL, "
                "amount BIGINT NOT NULL, created_at BIGINT NOT NULL)"
            )
            with pg.cursor().copy("COPY balances (customer, balance) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            pg.commit()
            pg.autocommit = True
            pg.execute("ANALYZE balances")
        return cls(url, customers)

    def conservation(self) -> tuple[bool, str]:
        """Every credit that left a balance is in exactly one event."""
        query = (
            f"SELECT (SELECT SUM({INITIAL_BALANCE} - balance) FROM balances), "
            "(SELECT COALESCE(SUM(amount), 0) FROM events), (SELECT COUNT(*) FROM events)"
        )
        row: tuple[int, ...] | None
        if self.url.startswith("sqlite"):
            lite = sqlite3.connect(sqlite_path(self.url))
            try:
                row = lite.execute(query).fetchone()
            finally:
                lite.close()
        else:
            with psycopg.connect(self.url) as pg:
                row = pg.execute(query).fetchone()
        if row is None:
            return False, "no answer"
        spent, recorded, events = (int(v) for v in row)
        ok = spent == recorded
        return ok, f"{events:,} events; debited {spent:,} = recorded {recorded:,} (units)"

"""Engines, transactions and migrations for SQLite and PostgreSQL.

One transaction per operation. On SQLite, write transactions start with `BEGIN IMMEDIATE`
(a deferred transaction that upgrades to a write fails with SQLITE_BUSY under load) and the
file runs in WAL mode. On PostgreSQL (psycopg 3), writers lock the customer row first, then
grants in id order, so concurrent operations never deadlock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from allotment.storage.catalog_cache import CatalogCache
from allotment.storage.checkpointer import SAFETY_NET_PAGES, Checkpointer

__all__ = ["Database", "default_database_url", "normalize_url", "sqlite_synchronous"]

DEFAULT_SQLITE_FILE = "allotment.db"
_MIGRATION_LOCK_KEY = 7_216_406_521  # pg_advisory_lock key for "one process migrates"


def default_database_url() -> str:
    return os.environ.get("ALLOTMENT_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """Accept `postgresql://`, `postgres://`, `sqlite:///path` or a bare file path."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def sqlite_synchronous() -> str:
    """SQLite's `synchronous` setting: NORMAL by default (in WAL mode a commit survives the
    process crashing; the last commits before a power loss or OS crash may be lost), FULL with
    `ALLOTMENT_SQLITE_SYNCHRONOUS=FULL` (each commit synced to disk: survives power loss too).
    README.md ("Durability") gives the figures of both."""
    chosen = os.environ.get("ALLOTMENT_SQLITE_SYNCHRONOUS", "NORMAL").strip().upper()
    if chosen not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError("ALLOTMENT_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA")
    return chosen


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        # commits checkpoint only if the background checkpointer falls this far behind
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # on the driver itself: through exec_driver_sql it cost 14 us of a 36 us transaction
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


class _ProcessLock:
    """An exclusive `flock` on a file beside the database, held around each write transaction.
    Opened again in a forked child: a descriptor inherited across fork shares its lock."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._pid = os.getpid()
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> None:
        if self._pid != os.getpid() or self._fd is None:
            self._pid = os.getpid()
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


class _ThreadConnections(threading.local):
    """SQLite: each thread keeps its two connections (one begins IMMEDIATE, one DEFERRED)
    open between transactions instead of checking one out of the pool for each (a pool
    checkout and return cost 10 us of a 21 us empty transaction). A thread's connections are
    closed when the thread ends, and all of them by `Database.dispose`."""

    def __init__(self) -> None:
        self.connections: dict[bool, _Held] = {}


class _Held:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:  # the thread ended: its thread-local value is dropped
        self.close()


class Database:
    """One database: its engine, its transactions, its migrations."""

    def __init__(self, url: str | None = None, *, pool_size: int = 8) -> None:
        self.url = normalize_url(url or default_database_url())
        self.catalog_cache = CatalogCache()
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        in_memory = False
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # each thread keeps its own connections (_ThreadConnections): no pool in between,
            # whose size would bound the number of threads
            in_memory = not database or database == ":memory:"
            self.engine = create_engine(
                self.url,
                connect_args={"timeout": 60, "check_same_thread": False},
                **({} if in_memory else {"poolclass": NullPool}),
            )
            _configure_sqlite(self.engine)
            self._checkpointer = None if in_memory else Checkpointer(database)
            if self._checkpointer is not None:  # a database dropped without dispose stops it too
                weakref.finalize(self, self._checkpointer.stop, wait=False)
        else:
            self._checkpointer = None
            # no pre-ping: it costs a round trip per transaction; a connection found dead
            # raises a disconnect error, which invalidates the pool (the request gets a 503)
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
            )
        # SQLite allows one writer: threads of this process queue here and hand over at once,
        # instead of sleeping in SQLite's busy handler (other processes still wait there)
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # ... and processes (serve --workers N) queue on a file lock, woken by the kernel the
        # moment it is released: in SQLite's busy handler a waiting writer sleeps up to 100 ms
        # at a time (HTTP track p99 at 2 workers was 1 s)
        self._process_lock: _ProcessLock | None = None
        if self.is_sqlite and not in_memory:
            self._process_lock = _ProcessLock(f"{database}.write-lock")
            weakref.finalize(self, self._process_lock.close)
        self._held = _ThreadConnections()
        self._all_held: weakref.WeakSet[_Held] = weakref.WeakSet()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        if write and self._write_lock is not None:
            with self._write_lock, self._across_processes(), self._transaction(write=True) as c:
                yield c
            return
        with self._transaction(write=write) as connection:
            yield connection

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        if not self.is_sqlite:
            with self.engine.connect() as connection, connection.begin():
                yield connection
            return
        connection = self._thread_connection(write)
        try:
            with connection.begin():
                yield connection
        finally:
            if connection.invalidated:
                self._held.connections.pop(write).close()

    def _thread_connection(self, write: bool) -> Connection:
        held = self._held.connections.get(write)
        if held is None or held.connection.closed:
            connection = self.engine.connect().execution_options(
                sqlite_begin="IMMEDIATE" if write else "DEFERRED"
            )
            held = self._held.connections[write] = _Held(connection)
            self._all_held.add(held)
        return held.connection

    @contextmanager
    def _across_processes(self) -> Iterator[None]:
        if self._process_lock is None:
            yield
            return
        with self._process_lock:
            yield

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        for held in list(self._all_held):
            held.close()
        self.engine.dispose()
        if self._process_lock is not None:
            self._process_lock.close()
            self._process_lock = None

    def migrate(self) -> None:
        """Bring the schema to the newest revision. Safe when several processes start at once:
        one migrates, the others wait for it, then find nothing to do."""
        from allotment.storage.migrate import upgrade_to_head

        if self.is_sqlite:
            database = make_url(self.url).database or ""
            if not database or database == ":memory:":
                upgrade_to_head(self.engine)
                return
            with open(f"{database}.migrate-lock", "a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    upgrade_to_head(self.engine)
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
            return
        lock_engine = create_engine(self.url, poolclass=NullPool)
        try:
            with lock_engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                connection.commit()
                try:
                    upgrade_to_head(self.engine)
                finally:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                    )
                    connection.commit()
        finally:
            lock_engine.dispose()

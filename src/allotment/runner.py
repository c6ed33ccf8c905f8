"""Owning transactions: every caller (embedded API, HTTP request, CLI command) runs one use
case as one transaction through `Runner.run`. Services never commit; this does.

A read that finds a lazy reset due reruns as a write; a unique-key race surfaces as the error it
means (a duplicate idempotency key) or is retried (two first requests creating one customer);
a change the store refused as an overdraw (a balance that moved under the plan) is replanned,
and raised if it repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from allotment.domain.clock import Clock, system_clock, truncate_to_ms
from allotment.domain.errors import AllotmentError, ErrorCode, OverdrawRefused
from allotment.services._errors import NeedsWrite
from allotment.storage.database import Database
from allotment.storage.global_store import GlobalStore
from allotment.storage.store import Store

__all__ = ["GlobalOperation", "Operation", "Runner"]

T = TypeVar("T")
Operation = Callable[[Store, datetime, bool], T]
GlobalOperation = Callable[[GlobalStore, datetime], T]
_RACE_RETRIES = 3


class Runner:
    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        self.database = database
        self.clock = clock or system_clock

    def now(self) -> datetime:
        return truncate_to_ms(self.clock())

    def run(self, org: str, env: str, operation: Operation[T], *, write: bool) -> T:
        now = self.now()
        for attempt in range(_RACE_RETRIES):
            try:
                with self.database.transaction(write=write) as connection:
                    return operation(
                        Store(connection, org, env, self.database.catalog_cache), now, write
                    )
            except NeedsWrite:
                write = True
            except OverdrawRefused:
                if attempt == _RACE_RETRIES - 1:
                    raise
            except IntegrityError as error:
                if "idempotency_key" in str(error.orig):
                    raise AllotmentError(
                        ErrorCode.DUPLICATE_IDEMPOTENCY_KEY, "idempotency_key was already used"
                    ) from None
                if "lock_id" in str(error.orig):
                    raise AllotmentError(
                        ErrorCode.LOCK_ALREADY_EXISTS, "a lock with this lock_id already exists"
                    ) from None
                if attempt == _RACE_RETRIES - 1:
                    raise
        raise RuntimeError("unreachable")  # pragma: no cover

    def run_global(self, operation: GlobalOperation[T], *, write: bool) -> T:
        """One operation on what spans every tenant (keys, the whole ledger, the health
        probe), in one transaction."""
        now = self.now()
        with self.database.transaction(write=write) as connection:
            return operation(GlobalStore(connection), now)

    def migrate(self) -> None:
        """Create or upgrade the schema (one process migrates, the others wait)."""
        self.database.migrate()

    def close(self) -> None:
        self.database.dispose()

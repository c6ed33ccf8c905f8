"""SQLite: the WAL checkpointed by a background thread instead of by the commit that happens to
cross SQLite's threshold.

By default SQLite checkpoints (copies the WAL back into the database file and syncs it) inside
the commit that grows the WAL past 1,000 pages, so one request in a few hundred pays for it.
The engine's connections raise that threshold to `SAFETY_NET_PAGES` (a commit still
checkpoints if this thread falls that far behind or is gone), and this thread runs a PASSIVE
checkpoint every `INTERVAL_S`: it never waits for readers or writers, and a commit never pays
for it. Measured on embedded `track`: 229 -> 198 us per call (benchmarks/README.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

__all__ = ["SAFETY_NET_PAGES", "Checkpointer"]

INTERVAL_S = 0.05
SAFETY_NET_PAGES = 20_000  # ~80 MB of WAL at 4 KiB pages

log = logging.getLogger("allotment.storage")


class Checkpointer:
    def __init__(self, path: str, interval_s: float = INTERVAL_S) -> None:
        self._path = path
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="allotment-wal-checkpointer", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=0, check_same_thread=False)
        except sqlite3.Error:
            log.exception("the WAL checkpointer could not open %s", self._path)
            return
        try:
            while not self._stop.wait(self._interval_s):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy or locked now: the next round tries again
                    continue
        finally:
            connection.close()

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

"""SQLite connection handling on the hot path: each thread keeps its connections open between
transactions, the WAL is checkpointed by a background thread (commits do not pay for it), and
`ALLOTMENT_SQLITE_SYNCHRONOUS` chooses the durability of a commit."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from allotment.storage.checkpointer import SAFETY_NET_PAGES
from allotment.storage.database import Database


def _database(tmp_path: Path) -> tuple[Database, Path]:
    path = tmp_path / "a.db"
    database = Database(f"sqlite:///{path}")
    with database.transaction(write=True) as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    return database, path


def test_a_thread_reuses_its_connection_and_threads_do_not_share_one(tmp_path: Path) -> None:
    database, _ = _database(tmp_path)
    seen: list[int] = []

    def twice() -> None:
        for _ in range(2):
            with database.transaction(write=True) as connection:
                seen.append(id(connection.connection.driver_connection))

    twice()
    assert seen[0] == seen[1]
    worker = threading.Thread(target=twice)
    worker.start()
    worker.join()
    assert seen[2] == seen[3] != seen[0]
    database.dispose()


def test_more_threads_than_any_pool_holds_all_get_a_connection(tmp_path: Path) -> None:
    """No pool sits between the threads and SQLite: 40 threads holding connections at once do
    not wait for one another's to be returned (a pool of 15 would make the 16th wait)."""
    database, _ = _database(tmp_path)
    barrier = threading.Barrier(40, timeout=20)
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with database.transaction(write=False) as connection:
                connection.execute(text("SELECT count(*) FROM t")).scalar()
                barrier.wait()  # every thread inside a transaction at once
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=hold) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    database.dispose()


def test_a_failed_transaction_leaves_the_thread_connection_usable(tmp_path: Path) -> None:
    database, _ = _database(tmp_path)
    with pytest.raises(RuntimeError), database.transaction(write=True) as connection:
        connection.execute(text("INSERT INTO t (v) VALUES ('lost')"))
        raise RuntimeError("rolled back")
    with database.transaction(write=True) as connection:
        connection.execute(text("INSERT INTO t (v) VALUES ('kept')"))
    with database.transaction(write=False) as connection:
        assert connection.execute(text("SELECT v FROM t")).scalars().all() == ["kept"]
    database.dispose()


def test_commits_leave_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    database, path = _database(tmp_path)
    with database.transaction(write=False) as connection:
        threshold = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert threshold == SAFETY_NET_PAGES
    for n in range(3000):  # ~3,000 WAL frames: commits alone would checkpoint at 20,000
        with database.transaction(write=True) as connection:
            connection.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 200 + str(n)})
    # the database file alone (its WAL left behind) holds the rows once they are checkpointed
    copy = tmp_path / "main-file-only.db"
    deadline = time.monotonic() + 5
    while True:
        shutil.copyfile(path, copy)
        probe = sqlite3.connect(copy)
        try:
            in_main_file = probe.execute("SELECT count(*) FROM t").fetchone()[0]
        except sqlite3.OperationalError:  # not even the table is checkpointed yet
            in_main_file = 0
        finally:
            probe.close()
        if in_main_file == 3000 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert in_main_file == 3000
    database.dispose()


def test_dispose_stops_the_checkpointer(tmp_path: Path) -> None:
    before = {t.ident for t in threading.enumerate() if t.name == "allotment-wal-checkpointer"}
    database, _ = _database(tmp_path)
    running = {t.ident for t in threading.enumerate() if t.name == "allotment-wal-checkpointer"}
    assert running - before
    database.dispose()
    after = {t.ident for t in threading.enumerate() if t.name == "allotment-wal-checkpointer"}
    assert not (after - before)


@pytest.mark.parametrize(("setting", "level"), [(None, 1), ("NORMAL", 1), ("full", 2)])
def test_synchronous_is_normal_unless_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None, level: int
) -> None:
    if setting is None:
        monkeypatch.delenv("ALLOTMENT_SQLITE_SYNCHRONOUS", raising=False)
    else:
        monkeypatch.setenv("ALLOTMENT_SQLITE_SYNCHRONOUS", setting)
    database, _ = _database(tmp_path)
    with database.transaction(write=False) as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == level
    database.dispose()


def test_an_unknown_synchronous_setting_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOTMENT_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(Exception, match="NORMAL, FULL or EXTRA"):
        _database(tmp_path)

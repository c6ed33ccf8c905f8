"""Every run ends with the ledger verified: `allotment ledger verify` (exit 0) on every engine
database, the embedded `verify()` after the embedded section, and a conservation check that
no credit was lost or invented: the credits that left the grants equal 3 x the premium
requests recorded on events, and the events written equal the tracks acknowledged."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import psycopg

from allotment.domain.ledger import LedgerReport
from benchmarks.bare import BareDatabase
from benchmarks.databases import sqlite_path
from benchmarks.datasets import Datasets
from benchmarks.report import LedgerCheck, Report
from benchmarks.seed import CREDIT_COST
from benchmarks.servers import allotment_command

__all__ = ["cli_verify", "conservation", "count_events", "from_engine", "scalar", "verify_all"]


def scalar(url: str, query: str) -> Any:
    if url.startswith("sqlite"):
        connection = sqlite3.connect(sqlite_path(url), timeout=60)
        try:
            row = connection.execute(query).fetchone()
        finally:
            connection.close()
    else:
        with psycopg.connect(url) as pg:
            row = pg.execute(query).fetchone()
    return None if row is None else row[0]


def count_events(url: str) -> int:
    return int(scalar(url, "SELECT COUNT(*) FROM events"))


def from_engine(label: str, report: LedgerReport) -> LedgerCheck:
    return LedgerCheck(f"{label}: engine.verify()", report.ok, report.summary())


def cli_verify(label: str, url: str) -> tuple[LedgerCheck, float]:
    """`allotment ledger verify --database-url URL`: the check and its wall time."""
    started = time.perf_counter()
    result = subprocess.run(
        [*allotment_command(), "ledger", "verify", "--database-url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    lines = (result.stdout + result.stderr).strip().splitlines()
    detail = f"exit {result.returncode}: {lines[0] if lines else '(no output)'}"
    return LedgerCheck(f"{label}: allotment ledger verify", result.returncode == 0, detail), elapsed


def conservation(label: str, url: str) -> LedgerCheck:
    debited = scalar(url, "SELECT COALESCE(SUM(granted - balance), 0) FROM grants")
    recorded = scalar(url, "SELECT COALESCE(SUM(value - unapplied), 0) FROM events")
    ok = int(debited) == CREDIT_COST * int(recorded)
    return LedgerCheck(
        f"{label}: credits conserved",
        ok,
        f"debited {int(debited) / 1e6:,.0f} credits = {CREDIT_COST} x "
        f"{int(recorded) / 1e6:,.0f} premium requests on events",
    )


def verify_all(datasets: Datasets, report: Report) -> None:
    for label, database in datasets.engine_databases:
        if database.url not in datasets.verified:
            report.ledger.append(_guarded(label, partial(_cli_check, label, database.url)))
        report.ledger.append(_guarded(label, partial(conservation, label, database.url)))
    for label, bare in datasets.bare_databases:
        report.ledger.append(_guarded(label, partial(_bare_check, label, bare)))


def _cli_check(label: str, url: str) -> LedgerCheck:
    return cli_verify(label, url)[0]


def _bare_check(label: str, bare: BareDatabase) -> LedgerCheck:
    ok, detail = bare.conservation()
    return LedgerCheck(f"{label}: credits conserved", ok, detail)


def _guarded(label: str, check: Callable[[], LedgerCheck]) -> LedgerCheck:
    """A check that cannot run has failed."""
    try:
        return check()
    except Exception as error:
        return LedgerCheck(label, False, f"could not check: {error!r}")

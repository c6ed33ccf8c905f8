"""Section 3, scaling: track/check ops/s (1 thread, uniform) at growing customer counts beside
the smallest; ops/s with a large ledger; batch ingestion events/s beside the bare ceiling; the
time `allotment ledger verify` takes on the large ledger beside a bare SQL fold; and (full
profile) the peak RSS of a server worker under load on the largest database. The databases are
seeded by copying an engine-made customer (seed.py), so every ledger stays consistent."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

from rich.console import Console

from allotment import Allotment
from benchmarks.databases import Backend, Workspace
from benchmarks.datasets import Datasets
from benchmarks.embedded import bare_factory, engine_factory
from benchmarks.http_api import create_key, start_allotment, start_bare
from benchmarks.ledger import cli_verify, scalar
from benchmarks.load import Access, WorkerFactory, run_batch, run_timed
from benchmarks.profiles import Profile
from benchmarks.report import Figure, Measurement, Report, Target
from benchmarks.seed import FEATURE, SeededDatabase, customer_name
from benchmarks.wrk import WrkLoad, run_wrk, wrk_path

__all__ = ["run"]

SECTION = "scaling"
BATCH_THREADS = 8
FOLD_SQL = (
    "SELECT COUNT(*) FROM grants g LEFT JOIN (SELECT grant_id, SUM(amount) AS folded "
    "FROM entries GROUP BY grant_id) e ON e.grant_id = g.id "
    "WHERE g.balance <> COALESCE(e.folded, 0)"
)


def _figure(key: str, label: str, measurement: Measurement, unit: str) -> Figure:
    result = Figure(
        SECTION, key, label, measurement.rate, unit, measurement.p50_ms, measurement.p99_ms
    )
    if measurement.errors:
        result.notes.append(f"{measurement.errors} errors")
    return result


def _batch_factory(engine: Allotment, customers: int) -> WorkerFactory:
    """A backlog of past usage: each event carries its timestamp and an idempotency key, as an
    import would."""
    run_id = secrets.token_hex(4)
    stamp = int(time.time() * 1000)

    def ingest(job: int) -> object:
        return engine.track(
            customer_id=customer_name(job % customers),
            feature_id=FEATURE,
            value=1,
            timestamp=stamp - job,
            idempotency_key=f"batch-{run_id}-{job}",
        )

    def factory() -> AbstractContextManager[Callable[[int], object]]:
        return nullcontext(ingest)

    return factory


class _Section:
    def __init__(
        self,
        profile: Profile,
        datasets: Datasets,
        report: Report,
        console: Console,
        workspace: Workspace,
    ) -> None:
        self.profile = profile
        self.datasets = datasets
        self.report = report
        self.console = console
        self.workspace = workspace

    def ops(self, label: str, database: SeededDatabase) -> dict[str, Measurement]:
        found = {}
        with Allotment(database.url) as engine:
            for operation in ("track", "check"):
                with self.console.status(f"scaling: {label} {operation}"):
                    measurement, _, error = run_timed(
                        engine_factory(engine, operation, database.customers),
                        Access(database.customers),
                        1,
                        self.profile.embedded_warmup_s,
                        self.profile.scaling_measure_s,
                    )
                if error:
                    self.console.print(f"[red]{label} {operation}: {error}")
                found[operation] = measurement
        return found

    def sizes(self, backend: Backend) -> tuple[dict[str, Figure], SeededDatabase]:
        first: dict[str, Figure] = {}
        database: SeededDatabase | None = None
        smallest = self.profile.scaling_sizes[0]
        for size in self.profile.scaling_sizes:
            database = self.datasets.seeded(backend, f"scale-{size}", size)
            for operation, measurement in self.ops(f"{backend} {size:,}", database).items():
                label = f"{backend} {operation} 1t, {size:,} customers"
                key = f"{SECTION}/{backend}/{operation}/customers-{size}"
                result = self.report.add(_figure(key, label, measurement, "ops/s"))
                if size == smallest:
                    first[operation] = result
                    continue
                result.against(first[operation]).targets.append(
                    Target(f"within 20% of {smallest:,}", (result.ratio or 0) >= 0.8)
                )
        assert database is not None
        return first, database

    def ledger(self, backend: Backend, first: dict[str, Figure]) -> None:
        customers = self.profile.ledger_customers
        tracks = max(0, self.profile.ledger_entries // customers - 1)
        database = self.datasets.seeded(backend, "ledger", customers, tracks)
        entries = int(scalar(database.url, "SELECT COUNT(*) FROM entries"))
        for operation, measurement in self.ops(f"{backend} ledger", database).items():
            label = f"{backend} {operation} 1t, {entries:,} ledger entries"
            key = f"{SECTION}/{backend}/{operation}/entries"
            self.report.add(_figure(key, label, measurement, "ops/s").against(first[operation]))
        with self.console.status(f"scaling: {backend} ledger verify on {entries:,} entries"):
            check, seconds = cli_verify(f"{backend} ledger ({entries:,} entries)", database.url)
            started = time.perf_counter()
            wrong = int(scalar(database.url, FOLD_SQL))
            fold_s = time.perf_counter() - started
        self.report.ledger.append(check)
        self.datasets.verified.add(database.url)
        bare = Figure(SECTION, f"{SECTION}/{backend}/fold", f"{backend} bare SQL fold", fold_s, "s")
        bare.notes.append(f"{wrong} balances differ")
        verify = Figure(
            SECTION,
            f"{SECTION}/{backend}/verify",
            f"{backend} allotment ledger verify, {entries:,} entries",
            seconds,
            "s",
        )
        if not check.ok:
            verify.notes.append(check.detail)
        self.report.add(bare)
        self.report.add(verify.against(bare))

    def batch(self, backend: Backend, database: SeededDatabase) -> None:
        count = self.profile.batch_events
        bare_db = self.datasets.bare(backend)
        jobs = list(range(count))
        with self.console.status(f"scaling: {backend} bare batch of {count:,}"):
            measurement, _, _ = run_batch(
                bare_factory(bare_db.url, bare_db.customers),
                [j % bare_db.customers for j in jobs],
                BATCH_THREADS,
            )
        label = f"{backend} bare batch {BATCH_THREADS}t"
        bare = self.report.add(
            _figure(f"{SECTION}/{backend}/batch/bare", label, measurement, "events/s")
        )
        with (
            Allotment(database.url) as engine,
            self.console.status(f"scaling: {backend} batch ingestion of {count:,} events"),
        ):
            factory = _batch_factory(engine, database.customers)
            measurement, _, error = run_batch(factory, jobs, BATCH_THREADS)
        if error:
            self.console.print(f"[red]{backend} batch: {error}")
        label = f"{backend} batch ingestion {BATCH_THREADS}t"
        result = _figure(f"{SECTION}/{backend}/batch", label, measurement, "events/s")
        self.report.add(result.against(bare))

    def rss(self, backend: Backend, database: SeededDatabase) -> None:
        if wrk_path() is None:
            return
        bare_db = self.datasets.bare(backend)
        load = WrkLoad(self.profile.wrk_measure_s, self.profile.wrk_connections, 0)
        with self.console.status(f"scaling: {backend} worker RSS under load"):
            with start_bare(self.workspace, "bare_app", 1, bare_db.url) as server:
                run_wrk(server.url, "track", replace(load, customers=bare_db.customers))
                bare_mib = server.peak_rss_mib()
            key = create_key(database.url)
            with start_allotment(self.workspace, database.url, 1) as server:
                load = replace(load, customers=database.customers, key=key)
                run_wrk(server.url, "track", load)
                run_wrk(server.url, "check", load)
                mib = server.peak_rss_mib()
        prefix = f"{SECTION}/{backend}/rss"
        bare = self.report.add(
            Figure(
                SECTION,
                f"{prefix}/bare",
                f"{backend} (b) worker peak RSS 1w",
                bare_mib,
                "MiB",
            )
        )
        label = f"{backend} allotment worker peak RSS 1w, {database.customers:,} customers"
        self.report.add(Figure(SECTION, prefix, label, mib, "MiB").against(bare))


def run(
    profile: Profile,
    datasets: Datasets,
    report: Report,
    console: Console,
    backends: list[Backend],
    workspace: Workspace,
) -> None:
    section = _Section(profile, datasets, report, console, workspace)
    for backend in backends:
        first, largest = section.sizes(backend)
        section.ledger(backend, first)
        section.batch(backend, largest)
        if profile.scaling_rss:
            section.rss(backend, largest)

"""Section 1, the embedded engine: `track` and `check` ops/s and p50/p99 at 1 and 8 threads,
uniform and single-hot-customer access, on SQLite (a WAL file) and PostgreSQL, beside the bare
ceiling of the same database and driver (see bare.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.console import Console

from allotment import Allotment
from benchmarks.bare import open_session
from benchmarks.databases import Backend
from benchmarks.datasets import Datasets
from benchmarks.ledger import count_events, from_engine
from benchmarks.load import Access, WorkerFactory, run_timed
from benchmarks.profiles import Profile
from benchmarks.report import Figure, LedgerCheck, Measurement, Report, Target
from benchmarks.seed import FEATURE, customer_name

__all__ = [
    "BATCH_EVENTS",
    "bare_factory",
    "batch_factory",
    "engine_factory",
    "faster_than_track",
    "hot_target",
    "run",
    "track_goal",
]

SECTION = "embedded"


def engine_factory(engine: Allotment, operation: str, customers: int) -> WorkerFactory:
    names = [customer_name(i) for i in range(customers)]

    def track(index: int) -> object:
        return engine.track(customer_id=names[index], feature_id=FEATURE, value=1)

    def check(index: int) -> object:
        answer = engine.check(customer_id=names[index], feature_id=FEATURE, required_balance=1)
        if not answer.allowed:
            raise RuntimeError(f"check refused {names[index]}")
        return answer

    chosen: Callable[[int], object] = track if operation == "track" else check

    def factory() -> AbstractContextManager[Callable[[int], object]]:
        return nullcontext(chosen)

    return factory


BATCH_EVENTS = 100


def batch_factory(engine: Allotment, customers: int) -> WorkerFactory:
    names = [customer_name(i) for i in range(customers)]

    def track_many(index: int) -> object:
        events = [{"customer_id": names[index], "feature_id": FEATURE, "value": 1}] * BATCH_EVENTS
        answer = engine.track_many(events)
        if not all(item.success for item in answer.results):
            raise RuntimeError(f"track_many refused events of {names[index]}")
        return answer

    def factory() -> AbstractContextManager[Callable[[int], object]]:
        return nullcontext(track_many)

    return factory


def track_goal(backend: Backend, threads: int) -> float | None:
    """Issue 12's targets for track ÷ bare: SQLite 1 thread ≥ 0.20; PostgreSQL ≥ 1.0 at 1
    thread and ≥ 0.8 at 8 (its bare transaction is 2 statements, 4 round trips)."""
    if backend is Backend.SQLITE:
        return 0.20 if threads == 1 else None
    return 1.0 if threads == 1 else 0.8


def bare_factory(url: str, customers: int) -> WorkerFactory:
    names = [customer_name(i) for i in range(customers)]

    @contextmanager
    def factory() -> Iterator[Callable[[int], object]]:
        session = open_session(url)
        try:

            def deduct(index: int) -> object:
                if not session.deduct(names[index]):
                    raise RuntimeError(f"bare balance exhausted for {names[index]}")
                return None

            yield deduct
        finally:
            session.close()

    return factory


def figure(key: str, label: str, measurement: Measurement, unit: str = "ops/s") -> Figure:
    result = Figure(
        SECTION,
        key,
        label,
        measurement.rate,
        unit,
        p50_ms=measurement.p50_ms,
        p99_ms=measurement.p99_ms,
    )
    if measurement.errors:
        result.notes.append(f"{measurement.errors} errors")
    return result


def faster_than_track(check: Figure, track: Figure) -> Target:
    ratio = check.value / max(track.value, 1e-9)
    return Target("check faster than track", ratio > 1.0, f"{ratio:.2f}x")


def hot_target(backend: Backend, hot: Figure, reference_ratio: float | None, what: str) -> Target:
    """Single hot customer: ≥ 80% of uniform on SQLite; on PostgreSQL no worse than the
    baseline's own hot/uniform ratio (a hot row serialises there whatever the code does)."""
    ratio = hot.ratio or 0.0
    if backend is Backend.SQLITE:
        return Target("hot ≥ 80% of uniform", ratio >= 0.8)
    reference = reference_ratio or 0.0
    return Target(f"hot/uniform ≥ {what}'s", ratio >= reference, f"{reference:.2f}")


class _Section:
    def __init__(
        self, profile: Profile, datasets: Datasets, report: Report, console: Console
    ) -> None:
        self.profile = profile
        self.datasets = datasets
        self.report = report
        self.console = console
        self.tracked = 0  # successful engine tracks, to reconcile with the events table

    def measure(
        self, label: str, factory: WorkerFactory, access: Access, threads: int, per_op: int = 1
    ) -> Measurement:
        with self.console.status(f"embedded: {label}"):
            measurement, completed, error = run_timed(
                factory,
                access,
                threads,
                self.profile.embedded_warmup_s,
                self.profile.embedded_measure_s,
            )
        if error:
            self.console.print(f"[red]{label}: {measurement.errors} errors, first: {error}")
        if "track" in label:
            self.tracked += completed * per_op
        return measurement

    def bare(self, backend: Backend) -> dict[tuple[int, str], Figure]:
        database = self.datasets.bare(backend)
        figures = {}
        for threads in self.profile.thread_counts:
            for access in (Access(database.customers), Access(database.customers, hot=True)):
                label = f"{backend} bare {threads}t {access.name}"
                measurement = self.measure(
                    label, bare_factory(database.url, database.customers), access, threads
                )
                key = f"{SECTION}/{backend}/bare/t{threads}/{access.name}"
                figures[threads, access.name] = self.report.add(figure(key, label, measurement))
        return figures

    def engine(self, backend: Backend, bare: dict[tuple[int, str], Figure]) -> None:
        database = self.datasets.main(backend)
        events_before, tracked_before = count_events(database.url), self.tracked
        with Allotment(database.url) as engine:
            for threads in self.profile.thread_counts:
                self._threads(backend, engine, database.customers, threads, bare)
            self.batch(backend, engine, database.customers, bare[1, "uniform"])
            report = engine.verify()
        label = f"{backend} main, after the embedded section"
        self.report.ledger.append(from_engine(label, report))
        written = count_events(database.url) - events_before
        acknowledged = self.tracked - tracked_before
        self.report.ledger.append(
            LedgerCheck(
                f"{label}: events = tracks acknowledged",
                written == acknowledged,
                f"{written:,} events written, {acknowledged:,} tracks acknowledged",
            )
        )

    def _threads(
        self,
        backend: Backend,
        engine: Allotment,
        customers: int,
        threads: int,
        bare: dict[tuple[int, str], Figure],
    ) -> None:
        done: dict[tuple[str, str], Figure] = {}
        for access in (Access(customers), Access(customers, hot=True)):
            for operation in ("track", "check"):
                label = f"{backend} {operation} {threads}t {access.name}"
                factory = engine_factory(engine, operation, customers)
                measurement = self.measure(label, factory, access, threads)
                key = f"{SECTION}/{backend}/{operation}/t{threads}/{access.name}"
                result = self.report.add(figure(key, label, measurement))
                done[operation, access.name] = result
                self._judge(backend, result, operation, access, threads, done, bare)

    def _judge(
        self,
        backend: Backend,
        result: Figure,
        operation: str,
        access: Access,
        threads: int,
        done: dict[tuple[str, str], Figure],
        bare: dict[tuple[int, str], Figure],
    ) -> None:
        if access.hot:
            result.against(done[operation, "uniform"])
            reference = bare[threads, "hot"].value / max(bare[threads, "uniform"].value, 1e-9)
            result.targets.append(hot_target(backend, result, reference, "bare"))
        elif operation == "track":
            result.against(bare[threads, "uniform"])
            goal = track_goal(backend, threads)
            if goal is not None:
                result.targets.append(Target(f"≥ {goal:.2f}x bare", (result.ratio or 0) >= goal))
        else:
            result.against(bare[threads, "uniform"])
            result.targets.append(faster_than_track(result, done["track", "uniform"]))
            if backend is Backend.SQLITE and threads == 1:
                result.targets.append(Target("≥ 0.50x bare", (result.ratio or 0) >= 0.5))

    def batch(self, backend: Backend, engine: Allotment, customers: int, bare: Figure) -> None:
        """`track_many` of BATCH_EVENTS events of one customer per call, 1 thread: events/s
        beside the bare single-event rate (issue 12: SQLite ≥ 2.0x, PostgreSQL ≥ 10x)."""
        label = f"{backend} track_many {BATCH_EVENTS} events of one customer 1t"
        factory = batch_factory(engine, customers)
        measurement = self.measure(label, factory, Access(customers), 1, BATCH_EVENTS)
        events = Measurement(
            measurement.count * BATCH_EVENTS,
            measurement.seconds,
            measurement.p50_ms,
            measurement.p99_ms,
            measurement.errors,
        )
        key = f"{SECTION}/{backend}/track_many/t1/uniform"
        result = self.report.add(figure(key, label, events, "events/s"))
        result.against(bare)
        goal = 2.0 if backend is Backend.SQLITE else 10.0
        result.targets.append(Target(f"≥ {goal:.0f}x bare", (result.ratio or 0) >= goal))


def run(
    profile: Profile,
    datasets: Datasets,
    report: Report,
    console: Console,
    backends: list[Backend],
) -> None:
    section = _Section(profile, datasets, report, console)
    for backend in backends:
        bare = section.bare(backend)
        section.engine(backend, bare)

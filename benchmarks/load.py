"""A time-boxed closed-loop load: T threads each run operations back to back for a warm-up
and a measured window; only operations that start and finish inside the window count, and
their latencies give p50/p99. Also a fixed-size batch run (events/s for a backlog)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from benchmarks.report import Measurement

__all__ = ["Access", "WorkerFactory", "percentile", "run_batch", "run_timed"]

# Per thread: a context that yields the operation, called with a customer index.
WorkerFactory = Callable[[], AbstractContextManager[Callable[[int], object]]]


@dataclass(frozen=True)
class Access:
    """Uniform over `customers`, or every operation on one hot customer (index 0)."""

    customers: int
    hot: bool = False

    @property
    def name(self) -> str:
        return "hot" if self.hot else "uniform"

    def picker(self, seed: int) -> Iterator[int]:
        if self.hot:
            while True:
                yield 0
        rng = random.Random(seed)
        while True:
            yield rng.randrange(self.customers)


def percentile(sorted_values: list[int], fraction: float) -> float:
    """Nearest-rank percentile of nanosecond samples, in milliseconds."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank] / 1e6


@dataclass
class _Tally:
    latencies: list[int] = field(default_factory=list)
    completed: int = 0  # successful operations, warm-up and tail included
    errors: int = 0
    first_error: str | None = None


def run_timed(
    factory: WorkerFactory, access: Access, threads: int, warmup_s: float, measure_s: float
) -> tuple[Measurement, int, str | None]:
    """Returns the measurement, every successful operation (for ledger checks) and the first
    error, if any."""
    tallies = [_Tally() for _ in range(threads)]
    ready, go = threading.Barrier(threads + 1), threading.Barrier(threads + 1)
    window: list[int] = []

    def work(index: int) -> None:
        tally = tallies[index]
        picker = access.picker(seed=index * 7919 + 1)
        with factory() as operation:
            ready.wait()
            go.wait()
            start_ns, end_ns = window
            clock = time.perf_counter_ns
            while True:
                began = clock()
                if began >= end_ns:
                    break
                try:
                    operation(next(picker))
                except Exception as error:
                    tally.errors += 1
                    tally.first_error = tally.first_error or repr(error)
                    continue
                finished = clock()
                tally.completed += 1
                if began >= start_ns and finished <= end_ns:
                    tally.latencies.append(finished - began)

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    ready.wait()  # every thread has opened its connection
    now = time.perf_counter_ns()
    window.extend([now + int(warmup_s * 1e9), now + int((warmup_s + measure_s) * 1e9)])
    go.wait()
    for worker in workers:
        worker.join()
    latencies = sorted(v for t in tallies for v in t.latencies)
    errors = sum(t.errors for t in tallies)
    first_error = next((t.first_error for t in tallies if t.first_error), None)
    measurement = Measurement(
        count=len(latencies),
        seconds=measure_s,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        errors=errors,
    )
    return measurement, sum(t.completed for t in tallies), first_error


def run_batch(
    factory: WorkerFactory, jobs: list[int], threads: int
) -> tuple[Measurement, int, str | None]:
    """Push a fixed backlog (`jobs`, customer indexes) through T threads; events/s is the
    backlog over the wall time until the last one is committed."""
    lock = threading.Lock()
    queue = iter(jobs)
    tallies = [_Tally() for _ in range(threads)]

    def work(index: int) -> None:
        tally = tallies[index]
        with factory() as operation:
            while True:
                with lock:
                    job = next(queue, None)
                if job is None:
                    return
                began = time.perf_counter_ns()
                try:
                    operation(job)
                except Exception as error:
                    tally.errors += 1
                    tally.first_error = tally.first_error or repr(error)
                    continue
                tally.latencies.append(time.perf_counter_ns() - began)
                tally.completed += 1

    workers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(v for t in tallies for v in t.latencies)
    completed = sum(t.completed for t in tallies)
    measurement = Measurement(
        count=completed,
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        errors=sum(t.errors for t in tallies),
    )
    return measurement, completed, next((t.first_error for t in tallies if t.first_error), None)

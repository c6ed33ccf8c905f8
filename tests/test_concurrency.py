"""Concurrency: many threads and processes spending one customer's pool at the same time.

Every test runs on SQLite (BEGIN IMMEDIATE + WAL) and on PostgreSQL (the customer row lock).
What a broken lock produces, and so what these tests count:

* two writers that both read "1 credit left" both spend it: more than 1,000 requests are
  allowed and the pool's `usage` passes 1,000. `remaining` alone cannot show this (it is
  clamped at 0), and neither can `verify()` (each overdraw is a well-formed ledger entry), so
  the tests count the allowed requests, the events and the usage entries, and read `usage`;
* two writers that both see an idempotency key unused both record the event;
* two writers that both see a reset due both reset: two reset entries for one boundary, and
  the second one gives back credits spent after the first.

On SQLite a broken write lock shows up as `database is locked` errors instead, which fail the
tests too: any exception other than the expected refusals is a failure.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from allotment import Allotment, AllotmentError
from allotment.domain.amounts import SCALE
from allotment.domain.clock import from_ms, to_ms
from allotment.storage.tables import entries, events
from tests.catalogs import credit_system, item, metered, plan, pool_of

if TYPE_CHECKING:
    from tests.conftest import FakeClock

CUSTOMER = "c1"
CREDITS = 1_000
REQUESTS = 2_000  # twice the pool: exactly half must be refused
THREADS = 8
PROCESSES = 4
BARRIER_TIMEOUT = 60.0  # seconds; spawning a process imports SQLAlchemy and allotment afresh
PROCESS_TIMEOUT = 300.0
MODES = ("check", "track")


@dataclass
class Outcome:
    """What one worker (thread or process) saw. Picklable, so processes can send it back."""

    allowed: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    started: float = 0.0  # time.monotonic(): one clock for every process of the machine
    finished: float = 0.0


def _spend(engine: Allotment, mode: str, count: int) -> Outcome:
    """Ask `count` times for 1 credit: `check(send_event=True)` or `track(..., "reject")`.
    Only a refusal is expected; any other exception propagates."""
    outcome = Outcome(started=time.monotonic())
    for _ in range(count):
        if mode == "check":
            response = engine.check(
                customer_id=CUSTOMER, feature_id="work", required_balance=1, send_event=True
            )
            ok = response.allowed
        else:
            try:
                engine.track(
                    customer_id=CUSTOMER, feature_id="work", value=1, overage_behavior="reject"
                )
            except AllotmentError as error:
                if error.code != "insufficient_balance":
                    raise
                ok = False
            else:
                ok = True
        if ok:
            outcome.allowed += 1
        else:
            outcome.refused += 1
    outcome.finished = time.monotonic()
    return outcome


def _process_worker(
    database_url: str,
    mode: str,
    count: int,
    barrier: Any,  # a multiprocessing Barrier of the spawn context
    results: Any,  # a multiprocessing Queue of the spawn context
) -> None:
    """One process: its own engine (the parent migrated), start with the others, report back.
    Errors travel as text: AllotmentError does not survive pickling."""
    outcome = Outcome()
    try:
        with Allotment(database_url, migrate=False) as engine:
            barrier.wait(BARRIER_TIMEOUT)
            outcome = _spend(engine, mode, count)
    except BaseException:  # reported to the parent, which fails the test
        outcome.errors.append(traceback.format_exc())
    results.put(outcome)


def _in_threads(work: Callable[[int], Outcome], workers: int) -> list[Outcome]:
    """Run `work(i)` for each worker on its own thread, all released at once."""
    barrier = threading.Barrier(workers)

    def run(index: int) -> Outcome:
        barrier.wait(BARRIER_TIMEOUT)
        return work(index)

    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(run, index) for index in range(workers)]
        return [future.result() for future in futures]  # re-raises a worker's exception


def _in_processes(database_url: str, mode: str, workers: int, each: int) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [
        context.Process(
            target=_process_worker,
            args=(database_url, mode, each, barrier, results),
            name=f"allotment-concurrency-{index}",
        )
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        outcomes: list[Outcome] = []
        for _ in processes:
            try:
                outcomes.append(results.get(timeout=PROCESS_TIMEOUT))
            except queue.Empty:
                pytest.fail(f"a worker process sent nothing within {PROCESS_TIMEOUT} s")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
    assert [process.exitcode for process in processes] == [0] * workers
    return outcomes


def _count(engine: Allotment, query: Any) -> int:
    with engine.database.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _assert_pool_spent_exactly(engine: Allotment, outcomes: list[Outcome]) -> None:
    errors = [error for outcome in outcomes for error in outcome.errors]
    assert errors == [], "\n".join(errors)
    # Every worker was running while every other one was: the requests really overlapped.
    assert max(o.started for o in outcomes) < min(o.finished for o in outcomes)
    allowed = sum(o.allowed for o in outcomes)
    refused = sum(o.refused for o in outcomes)
    assert (allowed, refused) == (CREDITS, REQUESTS - CREDITS)
    balance = engine.customers.get(customer_id=CUSTOMER).balances["pool"]
    assert balance.remaining == 0
    assert balance.usage == CREDITS  # `remaining` is clamped at 0; `usage` shows an overdraw
    # One event and one usage entry per allowed request; a refusal writes nothing.
    assert _count(engine, select(func.count()).select_from(events)) == CREDITS
    usage = select(func.count(), func.coalesce(func.sum(entries.c.amount), 0)).where(
        entries.c.kind == "usage"
    )
    with engine.database.engine.connect() as connection:
        count, total = connection.execute(usage).one()
    assert (count, int(total)) == (CREDITS, -CREDITS * SCALE)
    report = engine.verify()
    assert report.ok, report.mismatches


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_threads_spend_the_pool_exactly(engine: Allotment, mode: str) -> None:
    """8 threads share one engine: 2,000 requests of 1 credit against 1,000 credits."""
    pool_of(engine, credits=CREDITS)
    outcomes = _in_threads(lambda _: _spend(engine, mode, REQUESTS // THREADS), THREADS)
    _assert_pool_spent_exactly(engine, outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_processes_spend_the_pool_exactly(engine: Allotment, database_url: str, mode: str) -> None:
    """4 processes, each with its own engine: 2,000 requests of 1 credit against 1,000."""
    pool_of(engine, credits=CREDITS)
    outcomes = _in_processes(database_url, mode, PROCESSES, REQUESTS // PROCESSES)
    _assert_pool_spent_exactly(engine, outcomes)


def test_one_idempotency_key_is_used_once(make_engine: Callable[..., Allotment]) -> None:
    """8 threads (on two engines) send the same key at once: one track counts, 7 are refused
    as duplicates. Several rounds, each with a fresh key, to give the race more chances."""
    engines = [make_engine(), make_engine(migrate=False)]
    pool_of(engines[0], credits=CREDITS)
    rounds = 10
    for round_ in range(rounds):
        key = f"request-{round_}"

        def send(index: int, key: str = key) -> Outcome:
            outcome = Outcome(started=time.monotonic())
            try:
                engines[index % 2].track(
                    customer_id=CUSTOMER, feature_id="work", value=1, idempotency_key=key
                )
            except AllotmentError as error:
                if error.code != "duplicate_idempotency_key":
                    raise
                outcome.refused += 1
            else:
                outcome.allowed += 1
            outcome.finished = time.monotonic()
            return outcome

        outcomes = _in_threads(send, THREADS)
        assert sum(o.allowed for o in outcomes) == 1, f"round {round_}"
        assert sum(o.refused for o in outcomes) == THREADS - 1, f"round {round_}"
        keyed = select(func.count()).where(events.c.idempotency_key == key)
        assert _count(engines[0], keyed) == 1
    balance = engines[0].customers.get(customer_id=CUSTOMER).balances["pool"]
    assert (balance.remaining, balance.usage) == (CREDITS - rounds, rounds)
    assert _count(engines[0], select(func.count()).select_from(events)) == rounds
    assert engines[0].verify().ok


def _monthly_pool(engine: Allotment, included: int) -> None:
    metered(engine, "work")
    credit_system(engine, "pool", {"work": 1})
    plan(engine, "monthly", item("pool", included), auto_enable=True)
    engine.customers.get_or_create(customer_id=CUSTOMER)


RESET_OPERATIONS = ("get", "check", "check_send", "track")


def _touch(engine: Allotment, operation: str) -> int:
    """One read or write of the customer's pool; returns the credits it spent."""
    if operation == "get":
        engine.customers.get(customer_id=CUSTOMER)
        return 0
    if operation == "check":
        engine.check(customer_id=CUSTOMER, feature_id="work", required_balance=1)
        return 0
    if operation == "check_send":
        response = engine.check(
            customer_id=CUSTOMER, feature_id="work", required_balance=1, send_event=True
        )
        return 1 if response.allowed else 0
    engine.track(customer_id=CUSTOMER, feature_id="work", value=1, overage_behavior="reject")
    return 1


def test_racing_lazy_resets_reset_once(
    make_engine: Callable[..., Allotment], clock: FakeClock
) -> None:
    """Two engines on one clock; the clock passes a monthly boundary; 8 threads (each kind of
    read and write, on both engines) hit the pool at once. Exactly one reset per boundary."""
    included = 10
    engines = [make_engine(), make_engine(migrate=False)]
    _monthly_pool(engines[0], included)
    operations_per_thread = 2
    for round_ in range(5):
        engines[0].track(customer_id=CUSTOMER, feature_id="work", value=1)  # use some
        before = engines[0].customers.get(customer_id=CUSTOMER).balances["pool"]
        assert before.next_reset_at is not None
        boundary_ms = before.next_reset_at
        clock.set(from_ms(boundary_ms) + timedelta(minutes=1))

        def hit(index: int) -> Outcome:
            engine = engines[index % 2]
            operation = RESET_OPERATIONS[(index // 2) % len(RESET_OPERATIONS)]
            outcome = Outcome(started=time.monotonic())
            for _ in range(operations_per_thread):
                outcome.allowed += _touch(engine, operation)
            outcome.finished = time.monotonic()
            return outcome

        outcomes = _in_threads(hit, THREADS)
        spent = sum(o.allowed for o in outcomes)
        assert spent == 4 * operations_per_thread  # the 4 spending threads, never refused

        resets = select(entries.c.effective_at, entries.c.amount).where(entries.c.kind == "reset")
        with engines[0].database.engine.connect() as connection:
            rows = connection.execute(resets.order_by(entries.c.id)).all()
        at_boundary = [row for row in rows if row.effective_at == boundary_ms]
        assert len(at_boundary) == 1, f"round {round_}: {rows}"
        assert len(rows) == round_ + 1, f"round {round_}: {rows}"
        assert at_boundary[0].amount == before.usage * SCALE  # back up from what was left

        after = engines[1].customers.get(customer_id=CUSTOMER).balances["pool"]
        assert after.remaining == included - spent
        assert after.next_reset_at is not None and after.next_reset_at > to_ms(clock())
        report = engines[1].verify()
        assert report.ok, report.mismatches

"""Crash safety: `allotment serve --workers 2` SIGKILLed (master and workers at once) at random
moments under a concurrent track load, restarted on the same database each time.

Every track carries a unique idempotency key and every answer is kept. After the load, each
track that got an error or no answer is retried with the same key until it gets 200 or 409
duplicate_idempotency_key. Then: every applied key is in the ledger exactly once (a 200's event
id included), nothing else is, usage is the sum of the applied values, `allotment ledger verify`
exits 0. On SQLite (a file) and PostgreSQL (a throwaway database).

Bounded by default (5 kills per database); ALLOTMENT_LONG=1 runs 40.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import LONG
from tests.reliability.harness import (
    SERVICE_UNAVAILABLE,
    Load,
    ServerProcess,
    check_ledger,
    found_applied_on_retry,
    ledger_verify,
    seed_from_environment,
    settle,
    setup_catalog,
)

pytestmark = pytest.mark.reliability

KILLS = 40 if LONG else 5
# seconds of load between a healthy (re)start and the next kill
RUN_BETWEEN_KILLS = (0.5, 4.0) if LONG else (0.3, 1.5)
CUSTOMERS = ["alice", "bob", "carol"]


def test_sigkill_under_load_loses_and_doubles_nothing(database_url: str, tmp_path: Path) -> None:
    seed = seed_from_environment(f"crash safety {database_url.split(':')[0]}")
    rng = random.Random(seed)
    server = ServerProcess(database_url, tmp_path, workers=2)
    began = time.monotonic()
    try:
        server.start()
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=30) as client:
            setup_catalog(client, CUSTOMERS)
        load = Load(server, CUSTOMERS, rng, threads=8, timeout=30)
        load.start()
        restarts: list[float] = []
        kills = 0
        try:
            for _ in range(KILLS):
                time.sleep(rng.uniform(*RUN_BETWEEN_KILLS))
                sent_so_far = load.sent()
                load.pause()
                server.kill()
                kills += 1
                time.sleep(rng.uniform(0.0, 0.3))  # down for a moment
                restarts.append(server.start())
                load.resume()
                print(
                    f"kill {kills}: {sent_so_far} tracks sent so far, "
                    f"restarted in {restarts[-1]:.2f}s",
                    flush=True,
                )
            time.sleep(0.5)  # some load on the last restart too
        finally:
            load.stop()
        tracks = load.tracks
        first = Counter(
            (a.status if a.error is None else a.error.split(":")[0])
            for t in tracks
            for a in t.attempts[:1]
        )
        # an answer that came is a 200, or at worst a 503 service_unavailable: never a 500
        odd = [
            a
            for t in tracks
            for a in t.attempts
            if a.status not in (None, 200) and (a.status != 503 or a.code != SERVICE_UNAVAILABLE)
        ]
        assert not odd, (
            f"{len(odd)} unexpected answers, e.g. {[a.describe() for a in odd[:3]]}\n"
            f"{server.log_tail()}"
        )
        retries = settle(server, tracks)
        applied_on_retry = found_applied_on_retry(tracks)
        check_ledger(server, tracks, CUSTOMERS)
        server.stop()
        verify = ledger_verify(database_url)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        print(
            f"crash safety {database_url.split(':')[0]}: seed {seed}, {kills} kills survived, "
            f"{len(tracks)} tracks sent ({dict(first)} on first try), {retries} retries, "
            f"{applied_on_retry} found applied on retry (409), restart "
            f"{min(restarts):.2f}-{max(restarts):.2f}s, {time.monotonic() - began:.1f}s in all",
            flush=True,
        )
        assert kills >= 5
    finally:
        server.stop()

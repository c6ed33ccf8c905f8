"""`allotment serve` and `allotment keys create`."""

from __future__ import annotations

import os
import signal
import sys

import uvicorn

from allotment.api.limits import DEFAULT_MAX_BODY_BYTES
from allotment.session import Engine


def create_key(database_url: str | None, *, org: str, env: str, publishable: bool) -> str:
    engine = Engine(database_url)
    try:
        return engine.create_key(org=org, env=env, publishable=publishable)
    finally:
        engine.close()


def run_server(
    *,
    host: str,
    port: int,
    database_url: str | None,
    workers: int,
    rate_limit: float = 0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    engine = Engine(database_url)
    url = engine.database_url
    try:
        key = engine.first_key()
    finally:
        engine.close()
    if key is not None:
        print(f"Secret key: {key}", flush=True)
    print(f"allotment listening on http://{host}:{port}", flush=True)
    os.environ["ALLOTMENT_DATABASE_URL"] = url
    # read by api.limits.Limits.from_environment in each worker
    os.environ["ALLOTMENT_WORKERS"] = str(workers)
    os.environ["ALLOTMENT_MAX_BODY_BYTES"] = str(max_body_bytes)
    if rate_limit:
        os.environ["ALLOTMENT_RATE_LIMIT"] = str(rate_limit)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the signal into the
    # handler it found: a no-op one lets `run` return, so a clean stop exits 0
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda _signal, _frame: None)
    uvicorn.run(
        "allotment.api.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        # a busy worker must not be mistaken for a dead one (a restart drops its requests)
        timeout_worker_healthcheck=120,
    )
    sys.stdout.flush()

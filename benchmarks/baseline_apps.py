"""The HTTP baselines, served exactly as `allotment serve` is (Starlette on uvicorn with uvloop
and httptools), started with `uvicorn benchmarks.baseline_apps:<factory> --factory`:

(a) `constant_app`: answers every POST with a constant JSON body — the stack's ceiling;
(b) `bare_app`: parses the JSON body and, in Starlette's threadpool as allotment does, runs
    exactly one conditional UPDATE plus one event INSERT (bare.py) through the same driver
    (sqlite3 or psycopg 3, one connection per thread) on BENCH_BARE_DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import threading

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.bare import BareSession, open_session

__all__ = ["bare_app", "constant_app"]

JSON = "application/json"
PATHS = ("/v1/balances.track", "/v1/balances.check")
CONSTANT = json.dumps(
    {"customer_id": "customer_0", "value": 1, "balance": {"feature_id": "credits"}}
).encode()


async def _health(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


def constant_app() -> Starlette:
    async def constant(_: Request) -> Response:
        return Response(CONSTANT, media_type=JSON)

    routes = [Route(path, constant, methods=["POST"]) for path in PATHS]
    return Starlette(routes=[*routes, Route("/health", _health)])


def bare_app() -> Starlette:
    url = os.environ["BENCH_BARE_DATABASE_URL"]
    local = threading.local()

    def deduct(customer: str, amount: int) -> bool:
        session: BareSession | None = getattr(local, "session", None)
        if session is None:
            session = local.session = open_session(url)
        return session.deduct(customer, amount)

    async def track(request: Request) -> Response:
        body = json.loads(await request.body())
        customer = body["customer_id"]
        value = int(body.get("value", 1))
        if not await run_in_threadpool(deduct, customer, 3_000_000 * value):
            return Response(b'{"code":"insufficient_balance"}', status_code=400, media_type=JSON)
        return Response(json.dumps({"customer_id": customer, "value": value}), media_type=JSON)

    routes = [Route(path, track, methods=["POST"]) for path in PATHS]
    return Starlette(routes=[*routes, Route("/health", _health)])

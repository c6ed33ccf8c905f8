"""Fixtures for the HTTP API tests.

Each test module gets one app per database kind (SQLite, and PostgreSQL when reachable): the
`server` fixture is module-scoped and parametrized, so tests share a database and use distinct
customer ids. Requests go through httpx to the ASGI app in-process (a sync transport that runs
the app on an anyio blocking portal). Every response is checked: a 5xx fails the test at once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from starlette.types import ASGIApp

from allotment.api.app import create_app
from allotment.services import keys
from allotment.session import Engine
from allotment.storage.database import Database
from allotment.storage.key_store import KeyStore
from tests.conftest import FakeClock

ERROR_KEYS = {"message", "code", "env"}


class PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport over `httpx.ASGITransport` (which is async-only)."""

    def __init__(self, app: ASGIApp, portal: anyio.from_thread.BlockingPortal) -> None:
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._transport.handle_async_request(request)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        status, headers, content = self._portal.call(send)
        return httpx.Response(status, headers=headers, content=content, request=request)


@dataclass
class Server:
    """One app on one database, with its keys and a shared clock."""

    kind: str
    database: Database
    clock: FakeClock
    transport: PortalTransport
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, key: str | None = "secret", **headers: str) -> Api:
        """A client authenticated with the named key (see `_KEYS`), a raw key, or none."""
        sent = dict(headers)
        if key is not None:
            sent["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return Api(httpx.Client(transport=self.transport, base_url="http://test", headers=sent))


class Api:
    """A thin sync client that refuses to see a 5xx."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        if body is not None and content is None:
            content = json.dumps(body)
        sent = {"content-type": "application/json", **(headers or {})}
        response = self.http.request(method, path, content=content, headers=sent, params=params)
        if response.status_code >= 500:
            sent_text = repr(content)
            if len(sent_text) > 300:
                sent_text = f"{sent_text[:300]}... ({len(sent_text)} characters)"
            raise AssertionError(
                f"5xx: {method} {path} {sent_text} -> {response.status_code} {response.text}"
            )
        return response

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, {} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def rpc(self, name: str, body: dict[str, Any], **kwargs: Any) -> Any:
        """POST /v1/<name> and return the JSON of a 200 (fails the test otherwise)."""
        return ok(self.post(f"/v1/{name}", body, **kwargs))


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def fails(response: httpx.Response, status: int, code: str) -> str:
    """Assert an error answer `{message, code, env}` with this status and code; the message."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


def unique(prefix: str = "cus") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# (name, org, env, publishable)
_KEYS = [
    ("secret", "acme", "sandbox", False),
    ("publishable", "acme", "sandbox", True),
    ("live", "acme", "live", False),
    ("live_publishable", "acme", "live", True),
    ("other", "globex", "sandbox", False),
]


def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, label: str
) -> Database:
    """A migrated database of the fixture's kind (`request.param`: sqlite or postgresql): a
    file in a temporary folder, or a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        directory: Path = tmp_path_factory.mktemp(label)
        url = f"sqlite:///{directory / 'allotment.db'}"
    else:
        factory: Callable[[], str] = request.getfixturevalue("postgres_server")
        url = factory()
    database = Database(url)
    database.migrate()
    return database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    database = migrated_database(request, tmp_path_factory, "api")
    clock = FakeClock()
    with anyio.from_thread.start_blocking_portal() as portal:
        app = create_app(Engine.over(database, clock=clock))
        server = Server(request.param, database, clock, PortalTransport(app, portal))
        with database.transaction(write=True) as connection:
            for name, org, env, publishable in _KEYS:
                server.keys[name] = keys.create(
                    KeyStore(connection), clock.now, org=org, env=env, publishable=publishable
                )
        yield server
    database.dispose()


@pytest.fixture(scope="module")
def api(server: Server) -> Api:
    """The secret sandbox key of org acme."""
    return server.client("secret")


def seed_catalog(api: Api) -> None:
    """The catalog most tests use (created once per module and database).

    * premium_request (metered) in the pool `credits` at 3 credits each; plan `pro` gives
      100 credits a month.
    * basic_messages in `usd_credits` at 0.01 each; plan `usd_free` gives 5 usd_credits a month.
    * messages (metered) with its own balance: plan `basic` gives 100 a month.
    * seats (continuous use), plan `team`: 2 seats and 100 messages (lifetime).
    * sso (boolean), plan `enterprise`.
    * add-on `msg_pack`: 500 messages (lifetime), for entities.
    """
    features: list[dict[str, Any]] = [
        {"feature_id": "premium_request", "name": "Premium", "type": "metered", "consumable": True},
        {
            "feature_id": "credits",
            "name": "Credits",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": "premium_request", "credit_cost": 3}],
        },
        {"feature_id": "basic_messages", "name": "Basic", "type": "metered", "consumable": True},
        {
            "feature_id": "usd_credits",
            "name": "USD credits",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": "basic_messages", "credit_cost": 0.01}],
        },
        {"feature_id": "messages", "name": "Messages", "type": "metered", "consumable": True},
        {"feature_id": "seats", "name": "Seats", "type": "metered", "consumable": False},
        {"feature_id": "sso", "name": "SSO", "type": "boolean"},
    ]
    for feature in features:
        api.rpc("features.create", feature)
    month = {"interval": "month"}
    plans: list[dict[str, Any]] = [
        {"plan_id": "pro", "items": [{"feature_id": "credits", "included": 100, "reset": month}]},
        {"plan_id": "usd_free", "items": [{"feature_id": "usd_credits", "included": 5}]},
        {
            "plan_id": "basic",
            "items": [{"feature_id": "messages", "included": 100, "reset": month}],
        },
        {
            "plan_id": "team",
            "items": [
                {"feature_id": "seats", "included": 2},
                {"feature_id": "messages", "included": 100},
            ],
        },
        {"plan_id": "enterprise", "add_on": True, "items": [{"feature_id": "sso"}]},
        {
            "plan_id": "msg_pack",
            "add_on": True,
            "items": [{"feature_id": "messages", "included": 500}],
        },
    ]
    for plan in plans:
        # main plans each in their own group, so attaching one never replaces another
        plan.setdefault("group", plan["plan_id"])
        api.rpc("plans.create", {"name": plan["plan_id"].title(), **plan})


@pytest.fixture(scope="module")
def catalog(api: Api) -> Api:
    seed_catalog(api)
    return api


def new_customer(api: Api, *plan_ids: str, **fields: Any) -> str:
    """A fresh customer with these plans attached; its id."""
    customer_id = unique()
    api.rpc("customers.get_or_create", {"customer_id": customer_id, **fields})
    for plan_id in plan_ids:
        api.rpc("billing.attach", {"customer_id": customer_id, "plan_id": plan_id})
    return customer_id

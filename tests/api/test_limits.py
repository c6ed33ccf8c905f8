"""Request size limit (413 `payload_too_large`), per-key rate limit (429 `rate_limit_exceeded`
with Retry-After), and secret keys never written to the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import anyio.from_thread
import httpx
import pytest

from allotment.api.app import create_app
from allotment.api.limits import Limits, RateLimiter
from allotment.services import keys
from allotment.session import Engine
from allotment.storage.database import Database
from allotment.storage.key_store import KeyStore
from tests.api.conftest import PortalTransport
from tests.conftest import FakeClock


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[httpx.Client, str, str]]:
    """An app with a 4 KiB body limit and 3 requests/s per key (burst 3); two keys."""
    database = Database(f"sqlite:///{tmp_path / 'limits.db'}")
    database.migrate()
    clock = FakeClock()
    with database.transaction(write=True) as connection:
        first = keys.create(
            KeyStore(connection), clock.now, org="a", env="sandbox", publishable=False
        )
        second = keys.create(
            KeyStore(connection), clock.now, org="b", env="sandbox", publishable=False
        )
    limits = Limits(max_body_bytes=4096, rate_per_second=3, burst=3)
    with anyio.from_thread.start_blocking_portal() as portal:
        app = create_app(Engine.over(database, clock=clock), limits=limits)
        with httpx.Client(
            transport=PortalTransport(app, portal), base_url="http://allotment"
        ) as client:
            yield client, first, second
    database.dispose()


def _post(client: httpx.Client, key: str, path: str, content: bytes) -> httpx.Response:
    return client.post(
        path,
        content=content,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )


def test_a_body_over_the_limit_is_refused_with_413(
    limited: tuple[httpx.Client, str, str],
) -> None:
    client, key, _ = limited
    big = b'{"feature_id": "' + b"x" * 5000 + b'"}'
    r = _post(client, key, "/v1/features.get", big)
    assert r.status_code == 413
    assert r.json() == {
        "message": "the request body is larger than 4096 bytes",
        "code": "payload_too_large",
        "env": "sandbox",
    }
    small = _post(client, key, "/v1/features.list", b"{}")
    assert small.status_code == 200


def test_a_key_over_its_rate_gets_429_and_others_do_not(
    limited: tuple[httpx.Client, str, str],
) -> None:
    client, first, second = limited
    answers = [_post(client, first, "/v1/features.list", b"{}") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    refused = answers[3]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limit_exceeded"
    assert refused.headers["Retry-After"] == "1"
    assert _post(client, second, "/v1/features.list", b"{}").status_code == 200


def test_token_bucket_refills_at_the_rate() -> None:
    now = [0.0]
    bucket = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    assert [bucket.retry_after("k") for _ in range(3)] == [None, None, 1]
    now[0] = 0.5  # one token back
    assert bucket.retry_after("k") is None
    assert bucket.retry_after("k") == 1
    unlimited = RateLimiter(rate=0, burst=0)
    assert all(unlimited.retry_after("k") is None for _ in range(1000))


def test_limits_from_the_environment_split_the_rate_among_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOTMENT_WORKERS", "4")
    monkeypatch.setenv("ALLOTMENT_RATE_LIMIT", "100")
    monkeypatch.setenv("ALLOTMENT_MAX_BODY_BYTES", "2048")
    limits = Limits.from_environment()
    assert (limits.rate_per_second, limits.max_body_bytes) == (25, 2048)


def test_secret_keys_never_reach_the_logs(
    limited: tuple[httpx.Client, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client, key, _ = limited
    caplog.set_level(logging.DEBUG)
    _post(client, key, "/v1/features.create", b'{"feature_id": "f", "type": "metered"}')
    _post(client, key + "x", "/v1/features.list", b"{}")
    _post(client, key, "/v1/balances.track", b'{"customer_id": "nobody", "feature_id": "f"}')
    _post(client, key, "/v1/features.get", b"{not json")
    logged = "\n".join(record.getMessage() + str(record.exc_info) for record in caplog.records)
    secret = key.removeprefix("am_sk_test_")
    assert secret not in logged

"""`balances.batch_track` through the official clients, against a real server process.

* `autumn-sdk` 1.2.0: `autumn.batch_track(request=[...])` parses a 200 as `BatchTrackResponseBody1`
  and a 202 as `BatchTrackResponseBody2`; any other status raises.
* `autumn-js` 1.3.13: `batchTrack(request: Array<RequestBody>)` accepts only 202 (any other
  status throws), so tests/clients/js/batch.mjs running to "ok" proves the status.

Both are built fail-closed (see tests/clients/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from typing import Any

import pytest

from tests.clients.conftest import ServerProcess, Tenant, import_client, make_tenant
from tests.clients.test_autumn_js import JS_DIR, failed, node, ok  # noqa: F401 (node: fixture)
from tests.clients.test_autumn_sdk import client, create_pro, error_of, seed_features

autumn_sdk = import_client("autumn_sdk", "autumn-sdk==1.2.0")
errors = import_client("autumn_sdk.errors", "autumn-sdk==1.2.0")


# --- autumn-sdk ----------------------------------------------------------------------------------


def _sdk_catalog(tenant: Tenant) -> tuple[Any, str, str]:
    """The seed catalog, an add-on `calls` of 10 api_call, and two customers (the second
    with `calls`)."""
    seed_features(tenant)
    autumn = client(tenant.url, tenant.key)
    create_pro(autumn)
    autumn.plans.create(
        plan_id="calls",
        name="Calls",
        add_on=True,
        items=[{"feature_id": "api_call", "included": 10}],
    )
    first, second = (f"{label}_{uuid.uuid4().hex[:6]}" for label in ("first", "second"))
    for customer_id in (first, second):
        autumn.customers.get_or_create(customer_id=customer_id)
    autumn.billing.attach(customer_id=second, plan_id="calls")
    return autumn, first, second


def _remaining(autumn: Any, customer_id: str, feature_id: str) -> tuple[float, float]:
    found = autumn.customers.get(customer_id=customer_id).balances[feature_id]
    return found.remaining, found.usage


def test_autumn_sdk_batch_track(tenant: Tenant) -> None:
    autumn, first, second = _sdk_catalog(tenant)
    with autumn:
        response = autumn.batch_track(
            request=[
                {"customer_id": first, "feature_id": "premium_request", "value": 6},
                {"customer_id": second, "feature_id": "api_call", "value": 4},
                {"customer_id": first, "feature_id": "premium_request", "value": 1.5},
                {
                    "customer_id": second,
                    "feature_id": "api_call",
                    "value": 20,
                    "overage_behavior": "cap",
                },
                {"customer_id": "nobody", "feature_id": "api_call"},  # fails alone
                {
                    "customer_id": first,
                    "feature_id": "premium_request",
                    "properties": {"model": "fast"},
                    "idempotency_key": "once",
                },
                {"customer_id": first, "feature_id": "premium_request", "idempotency_key": "once"},
            ]
        )
        assert response.success is True
        # the 202 branch of the client (a 200 would parse as BatchTrackResponseBody1)
        assert type(response).__name__ == "BatchTrackResponseBody2"
        # 6 + 1.5 + 1 (the second "once" is a duplicate) premium requests at 3 credits
        assert _remaining(autumn, first, "credits") == (74.5, 25.5)
        assert _remaining(autumn, second, "api_call") == (0, 10)  # 4, then capped at 10
        events = autumn.events.list(customer_id=first).list
        assert sorted(e.value for e in events) == [1, 1.5, 6]
        assert [e.properties for e in events if e.value == 1] == [{"model": "fast"}]


def test_autumn_sdk_batch_track_refused_and_retried(tenant: Tenant) -> None:
    autumn, first, _second = _sdk_catalog(tenant)
    with autumn:
        with pytest.raises(errors.AutumnDefaultError) as raised:
            autumn.batch_track(
                request=[
                    {"customer_id": first, "feature_id": "premium_request", "value": 1},
                    {"customer_id": first, "feature_id": "no_such_feature"},
                ]
            )
        assert error_of(raised) == (404, "feature_not_found")
        assert json.loads(raised.value.body)["message"].startswith("[1]")
        assert _remaining(autumn, first, "credits") == (100, 0)  # nothing of it was written

        # a batch sent twice under one Idempotency-Key header counts once
        items = [{"customer_id": first, "feature_id": "premium_request", "value": 2}] * 2
        headers = {"Idempotency-Key": f"retry-{uuid.uuid4().hex[:8]}"}
        for _ in range(2):
            assert autumn.batch_track(request=items, http_headers=headers).success is True
        assert _remaining(autumn, first, "credits") == (88, 12)


# --- autumn-js -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def js_batch(node: str, allotment_server: ServerProcess) -> dict[str, Any]:  # noqa: F811
    """One run of batch.mjs against the server (in a fresh organization)."""
    tenant = make_tenant(allotment_server, "autumn-js-batch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTUMN_")}
    done = subprocess.run(
        [node, "batch.mjs", tenant.url, tenant.key],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"node batch.mjs failed:\n{done.stdout}\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"batch.mjs printed nothing\n{done.stderr}"
    results: dict[str, Any] = json.loads(lines[-1])
    return results


def _balance(customer: dict[str, Any], feature_id: str) -> tuple[Any, Any]:
    found = customer["balances"][feature_id]
    return found["remaining"], found["usage"]


def test_autumn_js_batch_track(js_batch: dict[str, Any]) -> None:
    for step in ("features.create credits", "plans.create pro", "customers.getOrCreate user_2"):
        ok(js_batch, step)
    # batchTrack returned: the server answered 202 (autumn-js 1.3.13 accepts nothing else)
    assert ok(js_batch, "batchTrack") == {"success": True}
    first = ok(js_batch, "customers.get user_1")
    assert _balance(first, "credits") == (79, 21)  # 6 + 1 premium requests at 3 credits
    assert _balance(first, "messages") == (8.5, 1.5)
    second = ok(js_batch, "customers.get user_2")
    assert _balance(second, "messages") == (0, 10)  # 4, then 20 capped at what was left

    assert ok(js_batch, "batchTrack with an unknown customer") == {"success": True}
    after = ok(js_batch, "customers.get user_1 after the second batch")
    assert _balance(after, "credits") == (76, 24)


def test_autumn_js_batch_track_refused(js_batch: dict[str, Any]) -> None:
    error = failed(js_batch, "error batchTrack unknown feature")
    assert error["statusCode"] == 404, error
    assert error["json"]["code"] == "feature_not_found"
    assert error["json"]["message"].startswith("[1]")
    unchanged = ok(js_batch, "customers.get user_1 after the refused batch")
    assert _balance(unchanged, "credits") == (76, 24)

"""The legacy `autumn-py==3.1.9` client (`import autumn`) against a real server.

autumn-py calls `{base_url}/{version}/check` and `/track` (REST paths, not RPC) with
`X-Api-Version: 1.2.0`, so the server answers in Autumn's 1.2 shapes: check must carry `code`,
track `id` and `code`, or the client's pydantic models refuse them. It retries 5xx with
exponential back-off by default; `max_retries=0` keeps a server error a quick failure.
It has no way to create features or plans, so the catalog is made over plain HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.conftest import Tenant, dead_server_url, import_client

autumn = import_client("autumn", "autumn-py==3.1.9")
autumn_error = import_client("autumn.error", "autumn-py==3.1.9")
responses = import_client("autumn.models.response", "autumn-py==3.1.9")


def client(url: str, key: str) -> Any:
    return autumn.Client(key, "v1", base_url=url, max_retries=0)


def seed_catalog(tenant: Tenant, *, extra_items: list[dict[str, Any]] | None = None) -> None:
    tenant.post(
        "/v1/features.create",
        {"feature_id": "premium_request", "name": "Premium", "type": "metered", "consumable": True},
    )
    tenant.post(
        "/v1/features.create",
        {
            "feature_id": "credits",
            "name": "Credits",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": "premium_request", "credit_cost": 3}],
        },
    )
    tenant.post(
        "/v1/features.create",
        {"feature_id": "messages", "name": "Messages", "type": "metered", "consumable": True},
    )
    items = [{"feature_id": "credits", "included": 100, "reset": {"interval": "month"}}]
    items += extra_items or []
    tenant.post(
        "/v1/plans.create", {"plan_id": "pro", "name": "Pro", "auto_enable": True, "items": items}
    )


def test_legacy_check_and_track(tenant: Tenant) -> None:
    seed_catalog(tenant)
    legacy = client(tenant.url, tenant.key)

    # 1.x semantics: check on an unknown customer creates it (with the auto-enabled plan).
    check = legacy.check("user_1", feature_id="premium_request", required_balance=6)
    assert isinstance(check, responses.CheckResponse)
    assert check.allowed is True
    assert check.code == "feature_found"
    assert check.customer_id == "user_1"
    assert check.feature_id == "credits"
    assert check.balance == 100

    track = legacy.track("user_1", "premium_request", value=6)
    assert isinstance(track, responses.TrackResponse)
    assert track.code == "event_received"
    assert track.id
    assert track.customer_id == "user_1"
    assert track.feature_id == "premium_request"

    after = legacy.check("user_1", feature_id="premium_request", required_balance=6)
    assert (after.allowed, after.balance) == (True, 82)

    outside = legacy.check("user_1", feature_id="messages")
    assert outside.allowed is False
    assert outside.code == "feature_found"
    assert outside.balance is None

    with pytest.raises(autumn_error.AutumnHTTPError) as raised:
        legacy.check("user_1", feature_id="no_such_feature")
    assert (raised.value.status_code, raised.value.code) == (404, "feature_not_found")

    with pytest.raises(autumn_error.AutumnHTTPError) as raised:
        client(tenant.url, "am_sk_test_not_a_real_key").check("user_1", feature_id="credits")
    assert (raised.value.status_code, raised.value.code) == (401, "invalid_secret_key")


def test_legacy_track_on_own_balance(tenant: Tenant) -> None:
    """A plain metered feature (`single_use` in 1.2 shapes) answers with its own balance."""
    seed_catalog(tenant, extra_items=[{"feature_id": "messages", "included": 10}])
    legacy = client(tenant.url, tenant.key)
    assert legacy.check("user_2", feature_id="messages", required_balance=4).balance == 10
    assert legacy.track("user_2", "messages", value=4).code == "event_received"
    after = legacy.check("user_2", feature_id="messages", required_balance=7)
    assert (after.allowed, after.balance, after.feature_id) == (False, 6, "messages")


def test_legacy_customer_get_with_a_credit_pool(tenant: Tenant) -> None:
    seed_catalog(tenant)
    legacy = client(tenant.url, tenant.key)
    legacy.check("user_3", feature_id="premium_request")
    customer = legacy.customers.get("user_3")
    # a pool is `single_use` in the 1.2 shape: autumn-py cannot parse `credit_system`
    assert customer.features["credits"].balance == 100
    assert customer.features["credits"].type == "single_use"


def test_legacy_client_fails_on_a_dead_server() -> None:
    with pytest.raises(OSError):
        client(dead_server_url(), "am_sk_test_whatever").check("user_1", feature_id="credits")

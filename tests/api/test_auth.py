"""Authentication, publishable keys, environments (sandbox/live) and tenancy (orgs)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, Server, fails, new_customer, ok, unique

# ---------------------------------------------------------------------------------------------
# authentication


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/balances.check"),
        ("POST", "/v1/balances.track"),
        ("POST", "/v1/customers.list"),
        ("POST", "/v1/check"),
        ("GET", "/v1/customers"),
        ("GET", "/v1/features"),
        ("DELETE", "/v1/customers/someone"),
    ],
)
def test_missing_key_is_401_no_secret_key(server: Server, method: str, path: str) -> None:
    anonymous = server.client(None)
    body = {"customer_id": "x", "feature_id": "messages"} if method == "POST" else None
    fails(anonymous.request(method, path, body), 401, "no_secret_key")


@pytest.mark.parametrize("authorization", ["", "   ", "Bearer", "Bearer   "])
def test_empty_authorization_is_401_no_secret_key(server: Server, authorization: str) -> None:
    anonymous = server.client(None)
    r = anonymous.post("/v1/customers.list", {}, headers={"Authorization": authorization})
    fails(r, 401, "no_secret_key")


@pytest.mark.parametrize(
    "key",
    ["am_sk_test_doesnotexist", "am_sk_live_doesnotexist", "am_pk_test_doesnotexist"],
)
def test_unknown_key_is_401_invalid_secret_key(server: Server, key: str) -> None:
    fails(server.client(key).post("/v1/customers.list", {}), 401, "invalid_secret_key")


def test_a_real_key_with_a_character_more_is_unknown(server: Server) -> None:
    key = server.keys["secret"] + "x"
    fails(server.client(key).post("/v1/customers.list", {}), 401, "invalid_secret_key")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer sk_live_51HxStripeLooking",
        "Bearer hello",
        "Bearer am_jwt_notsupported",
        "Basic dXNlcjpwYXNz",
        "Token am_sk_test_x",
    ],
)
def test_a_key_that_does_not_look_like_autumns_is_401(server: Server, authorization: str) -> None:
    r = server.client(None).post("/v1/customers.list", {}, headers={"Authorization": authorization})
    assert r.status_code == 401, r.text
    assert set(r.json()) == {"message", "code", "env"}


def test_the_bare_key_without_bearer_is_refused(server: Server) -> None:
    r = server.client(None).post(
        "/v1/customers.list", {}, headers={"Authorization": server.keys["secret"]}
    )
    assert r.status_code == 401, r.text


def test_the_scheme_is_case_insensitive(server: Server) -> None:
    r = server.client(None).post(
        "/v1/customers.list", {}, headers={"Authorization": f"bearer {server.keys['secret']}"}
    )
    ok(r)


# ---------------------------------------------------------------------------------------------
# publishable keys: read and check, never write


def snapshot(api: Api, customer_id: str) -> dict[str, Any]:
    """Everything a publishable request could have changed."""
    return {
        "customer": api.rpc("customers.get", {"customer_id": customer_id}),
        "entities": api.rpc("entities.list", {"customer_id": customer_id}),
        "events": api.rpc("events.list", {"customer_id": customer_id, "limit": 1000}),
        "features": api.rpc("features.list", {}),
        "plans": api.rpc("plans.list", {}),
    }


# (method, path, body) with {c} for the customer's id, {e} for its entity, {l} for a held lock
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/balances.track", {"customer_id": "{c}", "feature_id": "messages"}),
    (
        "POST",
        "/v1/balances.check",
        {"customer_id": "{c}", "feature_id": "messages", "send_event": True},
    ),
    (
        "POST",
        "/v1/balances.check",
        {"customer_id": "{c}", "feature_id": "messages", "lock": {"lock_id": "pk-lock"}},
    ),
    ("POST", "/v1/balances.finalize", {"lock_id": "{l}", "action": "release"}),
    ("POST", "/v1/balances.finalize", {"lock_id": "{l}", "action": "confirm"}),
    ("POST", "/v1/customers.get_or_create", {"customer_id": "{c}_new"}),
    ("POST", "/v1/customers.update", {"customer_id": "{c}", "name": "changed"}),
    ("POST", "/v1/customers.delete", {"customer_id": "{c}"}),
    (
        "POST",
        "/v1/customers.advance_test_clock",
        {"customer_id": "{c}", "frozen_time": 4102444800000},
    ),
    ("POST", "/v1/events.reverse", {"event_id": "evt_1"}),
    ("POST", "/v1/entities.create", {"customer_id": "{c}", "entity_id": "e_new"}),
    ("POST", "/v1/entities.update", {"customer_id": "{c}", "entity_id": "{e}", "name": "x"}),
    ("POST", "/v1/entities.delete", {"customer_id": "{c}", "entity_id": "{e}"}),
    (
        "POST",
        "/v1/features.create",
        {"feature_id": "pk_feature", "name": "x", "type": "metered", "consumable": True},
    ),
    ("POST", "/v1/features.update", {"feature_id": "messages", "name": "changed"}),
    ("POST", "/v1/features.delete", {"feature_id": "sso"}),
    ("POST", "/v1/plans.create", {"plan_id": "pk_plan", "name": "x"}),
    ("POST", "/v1/plans.update", {"plan_id": "basic", "name": "changed"}),
    ("POST", "/v1/plans.delete", {"plan_id": "msg_pack"}),
    ("POST", "/v1/billing.attach", {"customer_id": "{c}", "plan_id": "pro"}),
    ("POST", "/v1/track", {"customer_id": "{c}", "feature_id": "messages"}),
    ("POST", "/v1/events", {"customer_id": "{c}", "feature_id": "messages"}),
    ("POST", "/v1/check", {"customer_id": "{c}", "feature_id": "messages", "send_event": True}),
    ("POST", "/v1/usage", {"customer_id": "{c}", "feature_id": "messages", "value": 50}),
    ("POST", "/v1/attach", {"customer_id": "{c}", "product_id": "pro"}),
    ("POST", "/v1/customers", {"id": "{c}_new"}),
    ("POST", "/v1/customers/{c}", {"name": "changed"}),
    ("DELETE", "/v1/customers/{c}", None),
    ("POST", "/v1/customers/{c}/entities", {"entity_id": "e_new"}),
    ("DELETE", "/v1/customers/{c}/entities/{e}", None),
    ("POST", "/v1/features", {"feature_id": "pk_feature", "name": "x", "type": "boolean"}),
    ("DELETE", "/v1/features/sso", None),
    ("POST", "/v1/products", {"id": "pk_plan", "name": "x"}),
    ("POST", "/v1/plans/basic", {"name": "changed"}),
    ("DELETE", "/v1/products/msg_pack", None),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


@pytest.fixture
def held(server: Server, catalog: Api) -> dict[str, str]:
    """A customer with plans, an entity and a held lock, made with the secret key."""
    customer_id = new_customer(catalog, "basic", "team")
    catalog.rpc(
        "entities.create", {"customer_id": customer_id, "entity_id": "e1", "feature_id": "seats"}
    )
    lock_id = unique("lock")
    catalog.rpc(
        "balances.check",
        {
            "customer_id": customer_id,
            "feature_id": "messages",
            "required_balance": 5,
            "lock": {"lock_id": lock_id},
        },
    )
    event_id = catalog.rpc("events.list", {"customer_id": customer_id})["list"][0]["id"]
    return {"c": customer_id, "e": "e1", "l": lock_id, "v": event_id}


LEGACY_WRITES = [w for w in WRITES if not w[1].startswith("/v1/balances.")][:8]
CASES = [(*w, None) for w in WRITES] + [(*w, "1.2") for w in LEGACY_WRITES]


@pytest.mark.parametrize(
    ("method", "path", "body", "version"), CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES]
)
def test_a_publishable_key_cannot_write(
    server: Server,
    catalog: Api,
    held: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    version: str | None,
) -> None:
    before = snapshot(catalog, held["c"])
    headers = {} if version is None else {"x-api-version": version}
    r = server.client("publishable").request(
        method, _fill(path, held), _fill(body, held), headers=headers
    )
    assert 400 <= r.status_code < 500, f"{r.status_code} {r.text}"
    error = r.json()
    assert set(error) == {"message", "code", "env"} and error["code"] in (
        "invalid_request",
        "forbidden",
        "publishable_key",
    ), error
    assert error["env"] == "sandbox"
    assert snapshot(catalog, held["c"]) == before
    fails(
        catalog.post("/v1/customers.get", {"customer_id": held["c"] + "_new"}),
        404,
        "customer_not_found",
    )
    # the lock is still held: the secret key can finalize it
    assert catalog.rpc("balances.finalize", {"lock_id": held["l"], "action": "release"})


@pytest.mark.parametrize("path", ["/v1/check", "/v1/entitled", "/v1/balances.check"])
def test_a_publishable_1_x_check_does_not_create_the_customer(server: Server, path: str) -> None:
    """API 1.x check creates unknown customers; with a publishable key that is a write."""
    customer_id = unique()
    r = server.client("publishable").post(
        path,
        {"customer_id": customer_id, "feature_id": "messages"},
        headers={"x-api-version": "1.2"},
    )
    assert r.status_code in (200, 400, 404), r.text
    secret = server.client("secret")
    fails(secret.post("/v1/customers.get", {"customer_id": customer_id}), 404, "customer_not_found")


READS: list[tuple[str, dict[str, Any]]] = [
    ("balances.check", {"customer_id": "{c}", "feature_id": "messages"}),
    ("balances.check", {"customer_id": "{c}", "feature_id": "messages", "send_event": False}),
    ("balances.check", {"customer_id": "{c}", "feature_id": "messages", "entity_id": "{e}"}),
    ("customers.get", {"customer_id": "{c}"}),
    ("customers.list", {}),
    ("entities.get", {"customer_id": "{c}", "entity_id": "{e}"}),
    ("entities.list", {"customer_id": "{c}"}),
    ("features.get", {"feature_id": "messages"}),
    ("features.list", {}),
    ("plans.get", {"plan_id": "basic"}),
    ("plans.list", {}),
    ("events.list", {"customer_id": "{c}"}),
    ("events.aggregate", {"customer_id": "{c}", "feature_id": "messages"}),
]


@pytest.mark.parametrize(
    ("name", "body"), READS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(READS)]
)
def test_a_publishable_key_can_read_and_check(
    server: Server, catalog: Api, held: dict[str, str], name: str, body: dict[str, Any]
) -> None:
    before = snapshot(catalog, held["c"])
    ok(server.client("publishable").post(f"/v1/{name}", _fill(body, held)))
    assert snapshot(catalog, held["c"]) == before


def test_publishable_legacy_reads(server: Server, held: dict[str, str]) -> None:
    public = server.client("publishable")
    c = held["c"]
    assert ok(public.get(f"/v1/customers/{c}"))["id"] == c
    assert ok(public.get("/v1/customers"))["list"]
    assert ok(public.get("/v1/features/messages"))["id"] == "messages"
    assert ok(public.get("/v1/products/basic"))["id"] == "basic"
    assert ok(public.get(f"/v1/customers/{c}/entities/e1"))["id"] == "e1"
    r = ok(public.post("/v1/check", {"customer_id": c, "feature_id": "messages"}))
    assert r["allowed"] is True


def test_a_live_publishable_key_cannot_write_either(server: Server) -> None:
    live = server.client("live")
    customer_id = unique()
    live.rpc("customers.get_or_create", {"customer_id": customer_id})
    r = server.client("live_publishable").post(
        "/v1/customers.update", {"customer_id": customer_id, "name": "x"}
    )
    assert 400 <= r.status_code < 500 and r.json()["env"] == "live"
    assert live.rpc("customers.get", {"customer_id": customer_id})["name"] is None


# ---------------------------------------------------------------------------------------------
# sandbox and live are separate data


def test_sandbox_and_live_are_separate(server: Server, catalog: Api) -> None:
    live = server.client("live")
    customer_id = new_customer(catalog, "basic")
    r = live.post("/v1/customers.get", {"customer_id": customer_id})
    assert fails(r, 404, "customer_not_found")
    assert r.json()["env"] == "live"
    fails(live.post("/v1/features.get", {"feature_id": "messages"}), 404, "feature_not_found")
    fails(live.post("/v1/plans.get", {"plan_id": "basic"}), 404, "plan_not_found")
    assert customer_id not in [c["id"] for c in live.rpc("customers.list", {"limit": 1000})["list"]]
    # the same ids can be made in live, independently
    live.rpc(
        "features.create",
        {"feature_id": "messages", "name": "Live messages", "type": "metered", "consumable": True},
    )
    live.rpc(
        "plans.create",
        {"plan_id": "basic", "name": "B", "items": [{"feature_id": "messages", "included": 3}]},
    )
    created = live.rpc("customers.get_or_create", {"customer_id": customer_id})
    assert created["env"] == "live" and created["balances"] == {}
    live.rpc("billing.attach", {"customer_id": customer_id, "plan_id": "basic"})
    r = live.rpc("balances.track", {"customer_id": customer_id, "feature_id": "messages"})
    assert r["balance"]["remaining"] == 2
    sandbox = catalog.rpc("customers.get", {"customer_id": customer_id})
    assert sandbox["env"] == "sandbox"
    assert sandbox["balances"]["messages"]["remaining"] == 100
    assert catalog.rpc("features.get", {"feature_id": "messages"})["name"] == "Messages"
    # an idempotency key is per environment
    body = {"customer_id": customer_id, "feature_id": "messages", "idempotency_key": unique("k")}
    catalog.rpc("balances.track", body)
    live.rpc("balances.track", body)


# ---------------------------------------------------------------------------------------------
# tenancy: one org's key never sees another's data (404, never 403)

OTHER_ORG: list[tuple[str, dict[str, Any], str]] = [
    ("customers.get", {"customer_id": "{c}"}, "customer_not_found"),
    ("customers.update", {"customer_id": "{c}", "name": "mine"}, "customer_not_found"),
    ("customers.delete", {"customer_id": "{c}"}, "customer_not_found"),
    ("balances.check", {"customer_id": "{c}", "feature_id": "messages"}, "feature_not_found"),
    ("balances.track", {"customer_id": "{c}", "feature_id": "messages"}, "feature_not_found"),
    ("billing.attach", {"customer_id": "{c}", "plan_id": "basic"}, "customer_not_found"),
    ("entities.get", {"customer_id": "{c}", "entity_id": "{e}"}, "customer_not_found"),
    ("entities.get", {"entity_id": "{e}"}, "entity_not_found"),
    ("entities.update", {"entity_id": "{e}", "name": "mine"}, "entity_not_found"),
    ("entities.delete", {"entity_id": "{e}"}, "entity_not_found"),
    ("entities.list", {"customer_id": "{c}"}, "customer_not_found"),
    ("balances.finalize", {"lock_id": "{l}", "action": "release"}, "lock_not_found"),
    ("features.get", {"feature_id": "messages"}, "feature_not_found"),
    ("features.update", {"feature_id": "messages", "name": "mine"}, "feature_not_found"),
    ("features.delete", {"feature_id": "messages"}, "feature_not_found"),
    ("plans.get", {"plan_id": "basic"}, "plan_not_found"),
    ("plans.update", {"plan_id": "basic", "name": "mine"}, "plan_not_found"),
    ("plans.delete", {"plan_id": "basic"}, "plan_not_found"),
    (
        "balances.create",
        {"customer_id": "{c}", "feature_id": "messages", "included_grant": 5},
        "feature_not_found",
    ),
    (
        "balances.update",
        {"customer_id": "{c}", "feature_id": "messages", "add_to_balance": 5},
        "feature_not_found",
    ),
    ("balances.delete", {"customer_id": "{c}", "feature_id": "messages"}, "feature_not_found"),
    (
        "customers.advance_test_clock",
        {"customer_id": "{c}", "frozen_time": 4102444800000},
        "customer_not_found",
    ),
    ("events.reverse", {"event_id": "{v}"}, "event_not_found"),
]


@pytest.mark.parametrize(
    ("name", "body", "code"), OTHER_ORG, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(OTHER_ORG)]
)
def test_another_orgs_key_gets_404(
    server: Server,
    catalog: Api,
    held: dict[str, str],
    name: str,
    body: dict[str, Any],
    code: str,
) -> None:
    before = snapshot(catalog, held["c"])
    r = server.client("other").post(f"/v1/{name}", _fill(body, held))
    fails(r, 404, code)
    assert snapshot(catalog, held["c"]) == before


def test_another_orgs_key_sees_none_of_the_lists(
    server: Server, catalog: Api, held: dict[str, str]
) -> None:
    other = server.client("other")
    catalog.rpc("balances.track", {"customer_id": held["c"], "feature_id": "messages"})
    assert held["c"] not in [c["id"] for c in other.rpc("customers.list", {"limit": 1000})["list"]]
    assert other.rpc("entities.list", {})["list"] == []
    assert other.rpc("events.list", {"customer_id": held["c"]})["list"] == []
    assert other.rpc("events.list", {})["list"] == []
    assert other.rpc("features.list", {})["list"] == []
    assert other.rpc("plans.list", {})["list"] == []
    for path in (f"/v1/customers/{held['c']}", "/v1/features/messages", "/v1/products/basic"):
        assert other.get(path).status_code == 404


def test_another_org_uses_the_same_ids_independently(
    server: Server, catalog: Api, held: dict[str, str]
) -> None:
    other = server.client("other")
    feature = {"name": "Theirs", "type": "metered", "consumable": True}
    other.post("/v1/features.create", {"feature_id": "messages", **feature})
    other.post(
        "/v1/plans.create",
        {"plan_id": "basic", "name": "B", "items": [{"feature_id": "messages", "included": 1}]},
    )
    mine = catalog.rpc("customers.get", {"customer_id": held["c"]})
    theirs = other.rpc("customers.get_or_create", {"customer_id": held["c"]})
    assert theirs["balances"] == {} and theirs["created_at"] >= mine["created_at"]
    other.rpc("billing.attach", {"customer_id": held["c"], "plan_id": "basic"})
    key = unique("key")
    body = {"customer_id": held["c"], "feature_id": "messages", "idempotency_key": key}
    assert other.rpc("balances.track", body)["balance"]["remaining"] == 0
    assert catalog.rpc("balances.track", body)["balance"]["feature_id"] == "messages"
    assert catalog.rpc("features.get", {"feature_id": "messages"})["name"] == "Messages"
    assert (
        catalog.rpc("customers.get", {"customer_id": held["c"]})["subscriptions"]
        == mine["subscriptions"]
    )

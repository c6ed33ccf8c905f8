"""Legacy REST paths (autumn-py, autumn-js 0.x, docs curl) and the 1.2 response shapes."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, fails, new_customer, ok, unique
from tests.api.test_rpc import (
    BALANCE_KEYS,
    CHECK_KEYS,
    CUSTOMER_KEYS,
    ENTITY_KEYS,
    FEATURE_KEYS,
    PLAN_KEYS,
    TRACK_KEYS,
    has_keys,
)

V12 = {"x-api-version": "1.2"}
LEGACY_CHECK_KEYS = {
    "allowed",
    "code",
    "customer_id",
    "feature_id",
    "required_balance",
    "interval",
    "unlimited",
    "balance",
    "usage",
    "included_usage",
    "next_reset_at",
    "overage_allowed",
    "usage_limit",
}


@pytest.mark.parametrize("path", ["/v1/check", "/v1/entitled"])
def test_legacy_check_paths_answer_the_current_shape_by_default(catalog: Api, path: str) -> None:
    customer_id = new_customer(catalog, "pro")
    body = {"customer_id": customer_id, "feature_id": "premium_request", "required_balance": 6}
    r = ok(catalog.post(path, body))
    has_keys(r, CHECK_KEYS)
    has_keys(r["balance"], BALANCE_KEYS)
    assert r["allowed"] is True and r["required_balance"] == 18


@pytest.mark.parametrize("path", ["/v1/check", "/v1/entitled"])
def test_legacy_check_in_the_1_2_shape(catalog: Api, path: str) -> None:
    customer_id = new_customer(catalog, "basic")
    catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "messages", "value": 4}
    )
    r = ok(catalog.post(path, {"customer_id": customer_id, "feature_id": "messages"}, headers=V12))
    has_keys(r, LEGACY_CHECK_KEYS)
    assert r["code"] == "feature_found" and r["allowed"] is True
    assert r["customer_id"] == customer_id and r["feature_id"] == "messages"
    # balance is a number in 1.2, not an object
    assert r["balance"] == 96 and r["usage"] == 4 and r["included_usage"] == 100
    assert r["interval"] == "month" and r["unlimited"] is False
    assert isinstance(r["next_reset_at"], int)


def test_legacy_check_of_a_boolean_feature_in_the_1_2_shape(catalog: Api) -> None:
    customer_id = new_customer(catalog, "enterprise")
    r = ok(
        catalog.post("/v1/check", {"customer_id": customer_id, "feature_id": "sso"}, headers=V12)
    )
    assert r["allowed"] is True and r["code"] == "feature_found"


@pytest.mark.parametrize("version", ["1.2", "1.2.0", "1", "0.2.0", "1.4"])
def test_1_x_check_on_an_unknown_customer_creates_it(catalog: Api, version: str) -> None:
    customer_id = unique()
    r = ok(
        catalog.post(
            "/v1/check",
            {"customer_id": customer_id, "feature_id": "messages"},
            headers={"x-api-version": version},
        )
    )
    assert r["allowed"] is False and r["code"] == "feature_found"
    assert catalog.rpc("customers.get", {"customer_id": customer_id})["id"] == customer_id


@pytest.mark.parametrize("path", ["/v1/track", "/v1/events"])
def test_1_x_track_on_an_unknown_customer_creates_it(catalog: Api, path: str) -> None:
    customer_id = unique()
    r = ok(
        catalog.post(
            path,
            {"customer_id": customer_id, "feature_id": "messages", "customer_data": {"name": "N"}},
            headers=V12,
        )
    )
    assert r["code"] == "event_received"
    customer = catalog.rpc("customers.get", {"customer_id": customer_id})
    assert customer["name"] == "N"


@pytest.mark.parametrize("version", [None, "2.4.0", "2.5.0", "2026-05-13", "garbage"])
@pytest.mark.parametrize("path", ["/v1/check", "/v1/track", "/v1/balances.check"])
def test_2_x_check_and_track_on_an_unknown_customer_is_404(
    catalog: Api, path: str, version: str | None
) -> None:
    customer_id = unique()
    headers = {} if version is None else {"x-api-version": version}
    r = catalog.post(path, {"customer_id": customer_id, "feature_id": "messages"}, headers=headers)
    fails(r, 404, "customer_not_found")
    fails(
        catalog.post("/v1/customers.get", {"customer_id": customer_id}), 404, "customer_not_found"
    )


@pytest.mark.parametrize("path", ["/v1/track", "/v1/events"])
def test_legacy_track_paths(catalog: Api, path: str) -> None:
    customer_id = new_customer(catalog, "pro")
    body = {"customer_id": customer_id, "feature_id": "premium_request", "value": 2}
    r = ok(catalog.post(path, body))
    has_keys(r, TRACK_KEYS)
    assert r["balance"]["remaining"] == 94
    r = ok(catalog.post(path, body, headers=V12))
    assert r["code"] == "event_received"
    assert isinstance(r["id"], str) and r["id"]
    assert r["customer_id"] == customer_id
    assert (
        catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["credits"][
            "remaining"
        ]
        == 88
    )


def test_legacy_track_ids_are_distinct(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    body = {"customer_id": customer_id, "feature_id": "messages"}
    ids = {ok(catalog.post("/v1/track", body, headers=V12))["id"] for _ in range(3)}
    assert len(ids) == 3


def test_legacy_customer_paths(catalog: Api) -> None:
    customer_id = unique()
    created = ok(catalog.post("/v1/customers", {"id": customer_id, "name": "Legacy"}))
    has_keys(created, CUSTOMER_KEYS)
    assert created["id"] == customer_id and created["name"] == "Legacy"
    ok(catalog.post("/v1/attach", {"customer_id": customer_id, "product_id": "basic"}))

    got = ok(catalog.get(f"/v1/customers/{customer_id}"))
    has_keys(got, CUSTOMER_KEYS)
    assert got["balances"]["messages"]["remaining"] == 100

    updated = ok(catalog.post(f"/v1/customers/{customer_id}", {"name": "Renamed"}))
    assert updated["name"] == "Renamed" and updated["id"] == customer_id

    listed = ok(catalog.get("/v1/customers", params={"limit": 1000}))
    assert customer_id in [c["id"] for c in listed["list"]]
    page = ok(catalog.get("/v1/customers", params={"limit": 1}))
    assert len(page["list"]) == 1

    assert ok(catalog.delete(f"/v1/customers/{customer_id}")) == {"success": True}
    fails(catalog.get(f"/v1/customers/{customer_id}"), 404, "customer_not_found")
    fails(catalog.delete(f"/v1/customers/{customer_id}"), 404, "customer_not_found")


def test_legacy_customer_in_the_1_2_shape(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro", "basic", "enterprise")
    got = ok(catalog.get(f"/v1/customers/{customer_id}", headers=V12))
    assert got["id"] == customer_id
    features = got["features"]
    assert {"credits", "messages", "sso"} <= set(features)
    messages = features["messages"]
    assert {"id", "type", "name", "balance", "usage", "included_usage", "interval"} <= set(messages)
    assert (messages["type"], messages["balance"], messages["included_usage"]) == (
        "single_use",
        100,
        100,
    )
    assert features["credits"]["credit_schema"] == [
        {"feature_id": "premium_request", "credit_amount": 3}
    ]
    assert features["sso"]["type"] == "static"
    products = {p["id"]: p for p in got["products"]}
    assert set(products) == {"pro", "basic", "enterprise"}
    assert products["enterprise"]["is_add_on"] is True
    assert [p["id"] for p in got["add_ons"]] == ["enterprise"]


def test_legacy_entity_paths(catalog: Api) -> None:
    customer_id = new_customer(catalog, "team")
    base = f"/v1/customers/{customer_id}/entities"
    created = ok(catalog.post(base, {"entity_id": "e1", "feature_id": "seats", "name": "E one"}))
    has_keys(created, ENTITY_KEYS)
    assert created["customer_id"] == customer_id
    listed = ok(catalog.get(base))
    assert [e["id"] for e in listed["list"]] == ["e1"]
    got = ok(catalog.get(f"{base}/e1"))
    assert got["name"] == "E one"
    assert ok(catalog.post(f"{base}/e1", {"name": "E 1"}))["name"] == "E 1"
    assert ok(catalog.delete(f"{base}/e1")) == {"success": True}
    fails(catalog.get(f"{base}/e1"), 404, "entity_not_found")
    fails(catalog.get(f"/v1/customers/{unique()}/entities"), 404, "customer_not_found")


def test_legacy_feature_paths(catalog: Api) -> None:
    feature_id = unique("feat")
    created = ok(
        catalog.post(
            "/v1/features",
            {"feature_id": feature_id, "name": "F", "type": "metered", "consumable": True},
        )
    )
    has_keys(created, FEATURE_KEYS)
    assert feature_id in [f["id"] for f in ok(catalog.get("/v1/features"))["list"]]
    assert ok(catalog.get(f"/v1/features/{feature_id}"))["name"] == "F"
    assert ok(catalog.post(f"/v1/features/{feature_id}", {"name": "G"}))["name"] == "G"
    assert ok(catalog.get(f"/v1/features/{feature_id}"))["name"] == "G"
    assert ok(catalog.delete(f"/v1/features/{feature_id}")) == {"success": True}
    fails(catalog.get(f"/v1/features/{feature_id}"), 404, "feature_not_found")


@pytest.mark.parametrize("collection", ["products", "plans"])
def test_legacy_product_and_plan_paths(catalog: Api, collection: str) -> None:
    plan_id = unique("plan")
    created = ok(
        catalog.post(
            f"/v1/{collection}",
            {
                "id": plan_id,
                "name": "P",
                "group": plan_id,
                "items": [{"feature_id": "messages", "included": 7}],
            },
        )
    )
    has_keys(created, PLAN_KEYS)
    assert plan_id in [p["id"] for p in ok(catalog.get(f"/v1/{collection}"))["list"]]
    got = ok(catalog.get(f"/v1/{collection}/{plan_id}"))
    assert got["items"][0]["included"] == 7
    assert ok(catalog.post(f"/v1/{collection}/{plan_id}", {"name": "Q"}))["name"] == "Q"
    assert ok(catalog.delete(f"/v1/{collection}/{plan_id}")) == {"success": True}
    fails(catalog.get(f"/v1/{collection}/{plan_id}"), 404, "plan_not_found")


def test_legacy_attach(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    r = ok(catalog.post("/v1/attach", {"customer_id": customer_id, "product_id": "basic"}))
    assert r["customer_id"] == customer_id
    r = ok(
        catalog.post(
            "/v1/attach", {"customer_id": customer_id, "product_id": "enterprise"}, headers=V12
        )
    )
    assert r["success"] is True and r["customer_id"] == customer_id
    customer = catalog.rpc("customers.get", {"customer_id": customer_id})
    assert {s["plan_id"] for s in customer["subscriptions"]} == {"basic", "enterprise"}
    fails(
        catalog.post("/v1/attach", {"customer_id": customer_id, "product_id": unique("no")}),
        404,
        "plan_not_found",
    )


def test_legacy_usage_sets_the_usage(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    body = {"customer_id": customer_id, "feature_id": "messages"}
    assert ok(catalog.post("/v1/usage", {**body, "value": 10})) == {"success": True}
    balance = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["messages"]
    assert (balance["usage"], balance["remaining"]) == (10, 90)
    ok(catalog.post("/v1/usage", {**body, "value": 4}))
    balance = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["messages"]
    assert (balance["usage"], balance["remaining"]) == (4, 96)
    ok(catalog.post("/v1/usage", {**body, "value": 4}))
    balance = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["messages"]
    assert balance["usage"] == 4
    fails(
        catalog.post("/v1/usage", {**body, "customer_id": unique(), "value": 1}),
        404,
        "customer_not_found",
    )


def test_legacy_usage_of_a_feature_in_a_credit_system(catalog: Api) -> None:
    """Setting premium_request usage to 10 (3 credits each) after 7 were tracked must track the
    difference (3 units, 9 credits): usage 30 credits in all, not 21 + 30."""
    customer_id = new_customer(catalog, "pro")
    body = {"customer_id": customer_id, "feature_id": "premium_request"}
    catalog.rpc("balances.track", {**body, "value": 7})
    ok(catalog.post("/v1/usage", {**body, "value": 10}))
    credits = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["credits"]
    assert (credits["usage"], credits["remaining"]) == (30, 70)


def test_legacy_events_list(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "messages"})
    page = ok(catalog.post("/v1/events/list", {"customer_id": customer_id}))
    assert len(page["list"]) == 1

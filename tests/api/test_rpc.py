"""Every RPC path answers 200 with the keys the official clients (autumn-js, autumn-sdk) need."""

from __future__ import annotations

from typing import Any

import pytest

from allotment.domain.clock import to_ms
from tests.api.conftest import Api, Server, new_customer, ok, unique

CHECK_KEYS = {"allowed", "customer_id", "balance", "flag"}
BALANCE_KEYS = {
    "feature_id",
    "granted",
    "remaining",
    "usage",
    "unlimited",
    "overage_allowed",
    "max_purchase",
    "next_reset_at",
}
TRACK_KEYS = {"customer_id", "value", "balance"}
CUSTOMER_KEYS = {
    "id",
    "name",
    "email",
    "created_at",
    "fingerprint",
    "stripe_id",
    "env",
    "metadata",
    "send_email_receipts",
    "billing_controls",
    "subscriptions",
    "purchases",
    "licenses",
    "balances",
    "flags",
}
ENTITY_KEYS = {
    "id",
    "name",
    "customer_id",
    "feature_id",
    "created_at",
    "env",
    "subscriptions",
    "purchases",
    "balances",
    "flags",
}
FEATURE_KEYS = {"id", "name", "type", "consumable", "event_names", "archived"}
PLAN_KEYS = {
    "id",
    "name",
    "description",
    "group",
    "version",
    "add_on",
    "auto_enable",
    "price",
    "items",
    "created_at",
    "env",
    "archived",
    "metadata",
}
FLAG_KEYS = {"id", "plan_id", "expires_at", "feature_id"}


def has_keys(payload: dict[str, Any], keys: set[str]) -> None:
    missing = keys - set(payload)
    assert not missing, f"missing keys {sorted(missing)} in {payload}"


def is_balance(balance: Any) -> None:
    assert isinstance(balance, dict)
    has_keys(balance, BALANCE_KEYS)


def is_customer(customer: Any, customer_id: str, env: str = "sandbox") -> None:
    has_keys(customer, CUSTOMER_KEYS)
    assert customer["id"] == customer_id and customer["env"] == env
    assert isinstance(customer["created_at"], int)
    assert isinstance(customer["billing_controls"], dict)
    for listed in ("subscriptions", "purchases", "licenses"):
        assert isinstance(customer[listed], list)
    for balance in customer["balances"].values():
        is_balance(balance)
    for flag in customer["flags"].values():
        has_keys(flag, FLAG_KEYS)


def test_check_answers_the_required_keys(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro")
    r = catalog.rpc(
        "balances.check",
        {"customer_id": customer_id, "feature_id": "premium_request", "required_balance": 6},
    )
    has_keys(r, CHECK_KEYS)
    assert r["allowed"] is True and r["customer_id"] == customer_id
    assert r["required_balance"] == 18 and r["flag"] is None
    is_balance(r["balance"])
    assert r["balance"]["feature_id"] == "credits"
    assert (r["balance"]["granted"], r["balance"]["remaining"]) == (100, 100)
    # max_purchase is present even when null, next_reset_at is a Unix-ms int for a monthly item
    assert r["balance"]["max_purchase"] is None
    assert isinstance(r["balance"]["next_reset_at"], int)


def test_check_keeps_null_keys_when_there_is_no_balance(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    r = catalog.rpc("balances.check", {"customer_id": customer_id, "feature_id": "messages"})
    has_keys(r, CHECK_KEYS)
    assert r["allowed"] is False and r["balance"] is None and r["flag"] is None


def test_check_of_a_boolean_feature_answers_a_flag(catalog: Api) -> None:
    customer_id = new_customer(catalog, "enterprise")
    r = catalog.rpc("balances.check", {"customer_id": customer_id, "feature_id": "sso"})
    has_keys(r, CHECK_KEYS)
    assert r["allowed"] is True and r["balance"] is None
    has_keys(r["flag"], FLAG_KEYS)
    assert r["flag"]["feature_id"] == "sso"
    without = new_customer(catalog)
    r = catalog.rpc("balances.check", {"customer_id": without, "feature_id": "sso"})
    assert r["allowed"] is False and r["flag"] is None and "balance" in r


def test_check_with_send_event_is_check_and_deduct(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    body = {"customer_id": customer_id, "feature_id": "messages", "send_event": True}
    r = catalog.rpc("balances.check", {**body, "required_balance": 40})
    assert r["allowed"] is True and r["balance"]["remaining"] == 60
    r = catalog.rpc("balances.check", {**body, "required_balance": 61})
    assert r["allowed"] is False and r["balance"]["remaining"] == 60


def test_track_answers_the_required_keys(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro")
    r = catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "premium_request", "value": 6}
    )
    has_keys(r, TRACK_KEYS)
    assert r["customer_id"] == customer_id and r["value"] == 6
    is_balance(r["balance"])
    assert r["balance"]["feature_id"] == "credits"
    assert (r["balance"]["remaining"], r["balance"]["usage"]) == (82, 18)


def test_track_without_any_balance_is_a_no_op_with_a_null_balance(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    r = catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "messages"})
    has_keys(r, TRACK_KEYS)
    assert r["value"] == 1 and r["balance"] is None


def test_finalize_answers_success(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    catalog.rpc(
        "balances.check",
        {"customer_id": customer_id, "feature_id": "messages", "lock": {"lock_id": lock_id}},
    )
    assert catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "confirm"}) == {
        "success": True
    }


def test_customers_get_or_create_get_list_update_delete(catalog: Api) -> None:
    customer_id = unique()
    created = catalog.rpc(
        "customers.get_or_create",
        {"customer_id": customer_id, "name": "Ada", "email": "ada@example.com"},
    )
    is_customer(created, customer_id)
    assert created["name"] == "Ada" and created["email"] == "ada@example.com"
    assert created["billing_controls"] == {} and created["balances"] == {}
    again = catalog.rpc("customers.get_or_create", {"customer_id": customer_id, "name": "Other"})
    assert again["name"] == "Ada" and again["created_at"] == created["created_at"]

    catalog.rpc("billing.attach", {"customer_id": customer_id, "plan_id": "basic"})
    got = catalog.rpc("customers.get", {"customer_id": customer_id})
    is_customer(got, customer_id)
    assert got["balances"]["messages"]["remaining"] == 100
    assert [s["plan_id"] for s in got["subscriptions"]] == ["basic"]

    updated = catalog.rpc(
        "customers.update",
        {"customer_id": customer_id, "name": "Ada L.", "metadata": {"tier": "gold"}},
    )
    is_customer(updated, customer_id)
    assert updated["name"] == "Ada L." and updated["metadata"] == {"tier": "gold"}

    listed = catalog.rpc("customers.list", {"limit": 1000})
    assert set(listed) >= {"list"}
    for customer in listed["list"]:
        has_keys(customer, CUSTOMER_KEYS)
    assert customer_id in [c["id"] for c in listed["list"]]

    assert catalog.rpc("customers.delete", {"customer_id": customer_id}) == {"success": True}
    assert catalog.post("/v1/customers.get", {"customer_id": customer_id}).status_code == 404


def test_customers_list_pages_with_a_cursor(server: Server, catalog: Api) -> None:
    # a fresh env of its own would be cleaner; the live env of acme is used by no other test here
    live = server.client("live")
    ids = [unique() for _ in range(5)]
    for customer_id in ids:
        live.rpc("customers.get_or_create", {"customer_id": customer_id})
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        body: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            body["start_cursor"] = cursor
        page = live.rpc("customers.list", body)
        assert len(page["list"]) <= 2
        seen += [c["id"] for c in page["list"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s for s in seen if s in ids] == ids
    assert len(seen) == len(set(seen))


def test_entities_create_get_list_update_delete(catalog: Api) -> None:
    customer_id = new_customer(catalog, "team")
    body = {"customer_id": customer_id, "entity_id": "seat_1"}
    created = catalog.rpc("entities.create", {**body, "feature_id": "seats", "name": "Seat one"})
    has_keys(created, ENTITY_KEYS)
    assert (created["id"], created["customer_id"], created["feature_id"]) == (
        "seat_1",
        customer_id,
        "seats",
    )
    got = catalog.rpc("entities.get", body)
    has_keys(got, ENTITY_KEYS)
    assert got["name"] == "Seat one"
    listed = catalog.rpc("entities.list", {"customer_id": customer_id})
    assert [e["id"] for e in listed["list"]] == ["seat_1"]
    has_keys(listed["list"][0], ENTITY_KEYS)
    assert listed.get("next_cursor") is None
    updated = catalog.rpc("entities.update", {**body, "name": "Renamed"})
    assert updated["name"] == "Renamed"
    seats = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["seats"]
    assert seats["usage"] == 1
    assert catalog.rpc("entities.delete", body) == {"success": True}
    seats = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["seats"]
    assert seats["usage"] == 0
    assert catalog.post("/v1/entities.get", body).status_code == 404


def test_features_create_get_list_update_delete(catalog: Api) -> None:
    feature_id = unique("feat")
    created = catalog.rpc(
        "features.create",
        {"feature_id": feature_id, "name": "Thing", "type": "metered", "consumable": True},
    )
    has_keys(created, FEATURE_KEYS)
    assert (created["id"], created["type"], created["consumable"]) == (feature_id, "metered", True)
    got = catalog.rpc("features.get", {"feature_id": feature_id})
    assert got == created
    pool = catalog.rpc("features.get", {"feature_id": "credits"})
    has_keys(pool, FEATURE_KEYS | {"credit_schema"})
    assert pool["credit_schema"] == [{"metered_feature_id": "premium_request", "credit_cost": 3}]
    listed = catalog.rpc("features.list", {})
    assert {feature_id, "credits", "messages"} <= {f["id"] for f in listed["list"]}
    for feature in listed["list"]:
        has_keys(feature, FEATURE_KEYS)
    updated = catalog.rpc("features.update", {"feature_id": feature_id, "name": "Renamed"})
    assert updated["name"] == "Renamed" and updated["id"] == feature_id
    assert catalog.rpc("features.delete", {"feature_id": feature_id}) == {"success": True}
    assert catalog.post("/v1/features.get", {"feature_id": feature_id}).status_code == 404


def test_plans_create_get_list_update_delete(catalog: Api) -> None:
    plan_id = unique("plan")
    created = catalog.rpc(
        "plans.create",
        {
            "plan_id": plan_id,
            "name": "Starter",
            "group": plan_id,
            "items": [
                {"feature_id": "messages", "included": 10, "reset": {"interval": "day"}},
                {"feature_id": "sso"},
            ],
        },
    )
    has_keys(created, PLAN_KEYS)
    assert created["id"] == plan_id and created["version"] == 1 and created["env"] == "sandbox"
    items = {item["feature_id"]: item for item in created["items"]}
    assert items["messages"]["included"] == 10
    assert items["messages"]["reset"]["interval"] == "day"
    got = catalog.rpc("plans.get", {"plan_id": plan_id})
    assert got == created
    listed = catalog.rpc("plans.list", {})
    assert {plan_id, "pro", "basic"} <= {p["id"] for p in listed["list"]}
    for plan in listed["list"]:
        has_keys(plan, PLAN_KEYS)
    updated = catalog.rpc("plans.update", {"plan_id": plan_id, "name": "Starter+"})
    assert updated["name"] == "Starter+" and updated["version"] == 1
    assert catalog.rpc("plans.delete", {"plan_id": plan_id}) == {"success": True}
    assert catalog.post("/v1/plans.get", {"plan_id": plan_id}).status_code == 404


def test_billing_attach(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    r = catalog.rpc("billing.attach", {"customer_id": customer_id, "plan_id": "basic"})
    assert r["customer_id"] == customer_id and "payment_url" in r and r["payment_url"] is None
    customer = catalog.rpc("customers.get", {"customer_id": customer_id})
    assert customer["balances"]["messages"]["granted"] == 100
    # the legacy body key product_id works too
    r = catalog.rpc("billing.attach", {"customer_id": customer_id, "product_id": "enterprise"})
    customer = catalog.rpc("customers.get", {"customer_id": customer_id})
    assert "sso" in customer["flags"]


def test_events_list_and_aggregate_answer(server: Server, catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    a_minute_ago = to_ms(server.clock.now) - 60_000
    catalog.rpc(
        "balances.track",
        {
            "customer_id": customer_id,
            "feature_id": "messages",
            "value": 3,
            "timestamp": a_minute_ago,
        },
    )
    page = catalog.rpc("events.list", {"customer_id": customer_id})
    assert set(page) >= {"list", "next_cursor"} and page["next_cursor"] is None
    (event,) = page["list"]
    assert {"id", "timestamp", "customer_id", "feature_id", "value", "properties"} <= set(event)
    assert (event["customer_id"], event["feature_id"], event["value"]) == (
        customer_id,
        "messages",
        3,
    )
    totals = catalog.rpc(
        "events.aggregate", {"customer_id": customer_id, "feature_id": "messages", "range": "24h"}
    )
    assert totals["total"] == {"messages": {"count": 1, "sum": 3}}
    assert isinstance(totals["list"], list) and totals["list"]


@pytest.mark.parametrize("version", [None, "2.4.0", "2.5.0", "2026-05-13", "garbage", "3"])
def test_any_api_version_gets_the_current_shapes(
    server: Server, catalog: Api, version: str | None
) -> None:
    headers = {} if version is None else {"x-api-version": version}
    customer_id = new_customer(catalog, "pro")
    r = ok(
        catalog.post(
            "/v1/balances.check",
            {"customer_id": customer_id, "feature_id": "premium_request"},
            headers=headers,
        )
    )
    has_keys(r, CHECK_KEYS)
    assert "code" not in r
    is_balance(r["balance"])
    r = ok(
        catalog.post(
            "/v1/balances.track",
            {"customer_id": customer_id, "feature_id": "premium_request"},
            headers=headers,
        )
    )
    has_keys(r, TRACK_KEYS)
    assert "code" not in r
    customer = ok(catalog.post("/v1/customers.get", {"customer_id": customer_id}, headers=headers))
    is_customer(customer, customer_id)

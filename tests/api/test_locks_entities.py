"""Locks over HTTP (reserve with check, finalize, expiry on the injected clock) and entities
(entity_id on check and track, seats)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from allotment.domain.clock import to_ms
from allotment.session import Engine
from tests.api.conftest import Api, Server, fails, new_customer, ok, unique


def balance_of(api: Api, customer_id: str, feature_id: str) -> dict[str, Any]:
    balances: dict[str, Any] = api.rpc("customers.get", {"customer_id": customer_id})["balances"]
    return dict(balances[feature_id])


def lock_check(
    api: Api, customer_id: str, required: float, lock: dict[str, Any], **extra: Any
) -> Any:
    return api.post(
        "/v1/balances.check",
        {
            "customer_id": customer_id,
            "feature_id": extra.pop("feature_id", "messages"),
            "required_balance": required,
            "lock": lock,
            **extra,
        },
    )


# ---------------------------------------------------------------------------------------------
# locks


def test_a_lock_reserves_and_confirm_keeps_it(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    r = ok(lock_check(catalog, customer_id, 30, {"lock_id": lock_id, "enabled": True}))
    assert r["allowed"] is True and r["balance"]["remaining"] == 70
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 70
    assert catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "confirm"}) == {
        "success": True
    }
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 70
    events = catalog.rpc("events.list", {"customer_id": customer_id})["list"]
    assert [e["value"] for e in events] == [30]
    r = catalog.post("/v1/balances.finalize", {"lock_id": lock_id, "action": "release"})
    fails(r, 409, "lock_already_finalized")
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 70


def test_release_gives_everything_back(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 45, {"lock_id": lock_id}))
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 55
    catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "release"})
    balance = balance_of(catalog, customer_id, "messages")
    assert (balance["remaining"], balance["usage"]) == (100, 0)
    fails(
        catalog.post("/v1/balances.finalize", {"lock_id": lock_id, "action": "confirm"}),
        409,
        "lock_already_finalized",
    )


@pytest.mark.parametrize(("override", "remaining"), [(12, 88), (45, 55), (0, 100), (30, 70)])
def test_confirm_with_an_override_value(catalog: Api, override: int, remaining: int) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 30, {"lock_id": lock_id}))
    catalog.rpc(
        "balances.finalize", {"lock_id": lock_id, "action": "confirm", "override_value": override}
    )
    assert balance_of(catalog, customer_id, "messages")["remaining"] == remaining


def test_override_value_only_with_confirm(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 5, {"lock_id": lock_id}))
    r = catalog.post(
        "/v1/balances.finalize", {"lock_id": lock_id, "action": "release", "override_value": 1}
    )
    assert "override_value" in fails(r, 400, "invalid_inputs")
    catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "release"})


def ledger_verifies(server: Server) -> bool:
    return Engine.over(server.database).verify_ledger().ok


def lock_values(api: Api, customer_id: str) -> list[Any]:
    return [e["value"] for e in api.rpc("events.list", {"customer_id": customer_id})["list"]]


def test_confirm_below_zero_gives_the_lock_back_and_refunds_on_top(
    server: Server, catalog: Api
) -> None:
    """Issue 10 item 8, its example exactly: remaining 10, lock 8 -> 2, confirm -3 -> 13
    (Autumn RF-2, server/tests/integration/balances/lock/basic/check-with-lock-refund.test.ts,
    useautumn/autumn@187c0a7fd). The lock's event then costs -3."""
    customer_id = new_customer(catalog, "basic")
    catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "messages", "value": 90}
    )
    lock_id = unique("lock")
    assert (
        ok(lock_check(catalog, customer_id, 8, {"lock_id": lock_id}))["balance"]["remaining"] == 2
    )
    body = {"lock_id": lock_id, "action": "confirm", "override_value": -3}
    assert catalog.rpc("balances.finalize", body) == {"success": True}
    balance = balance_of(catalog, customer_id, "messages")
    assert (balance["remaining"], balance["usage"]) == (13, 87)
    assert lock_values(catalog, customer_id) == [-3, 90]
    fails(catalog.post("/v1/balances.finalize", body), 409, "lock_already_finalized")
    assert ledger_verifies(server)


def test_confirm_below_zero_never_goes_above_granted(server: Server, catalog: Api) -> None:
    """Autumn AD-3 (check-with-lock-additional-deduct.test.ts): lock 5 of a full balance,
    confirm -2: the balance is back to its granted amount, not above; the 2 that do not fit
    are recorded on the event, not applied (issue 10 item 8, the negative-track rule)."""
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 5, {"lock_id": lock_id}))
    body = {"lock_id": lock_id, "action": "confirm", "override_value": -2}
    catalog.rpc("balances.finalize", body)
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 100
    assert lock_values(catalog, customer_id) == [-2]
    assert ledger_verifies(server)


def test_confirm_below_zero_on_a_credit_pool(server: Server, catalog: Api) -> None:
    """Issue 10 item 8 on a credit system (3 credits each): 85, a lock of 2 (79), confirm
    -3: the 6 credits come back and 9 are refunded on top (94)."""
    customer_id = new_customer(catalog, "pro")
    body = {"customer_id": customer_id, "feature_id": "premium_request", "value": 5}
    catalog.rpc("balances.track", body)
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 2, {"lock_id": lock_id}, feature_id="premium_request"))
    assert balance_of(catalog, customer_id, "credits")["remaining"] == 79
    finalize = {"lock_id": lock_id, "action": "confirm", "override_value": -3}
    catalog.rpc("balances.finalize", finalize)
    assert balance_of(catalog, customer_id, "credits")["remaining"] == 94
    assert ledger_verifies(server)


def test_confirm_below_zero_after_a_reset(server: Server, catalog: Api) -> None:
    """Issue 10 item 8 with the reversal rule: a lock taken before the customer's reset gives
    nothing of its reservation to the new cycle; the refund of 3 still lands by the
    negative-track rule (a new cycle used 6: 94 -> 97)."""
    customer_id = new_customer(catalog, "basic")
    resets_at = balance_of(catalog, customer_id, "messages")["next_reset_at"]
    clock = {"customer_id": customer_id, "frozen_time": resets_at - 3_600_000}
    catalog.rpc("customers.advance_test_clock", clock)
    lock_id = unique("lock")
    ok(lock_check(catalog, customer_id, 8, {"lock_id": lock_id}))
    catalog.rpc("customers.advance_test_clock", {**clock, "frozen_time": resets_at + 300_000})
    catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "messages", "value": 6}
    )
    finalize = {"lock_id": lock_id, "action": "confirm", "override_value": -3}
    catalog.rpc("balances.finalize", finalize)
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 97
    assert ledger_verifies(server)


def test_a_lock_on_a_credit_pool_reserves_credits(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro")
    lock_id = unique("lock")
    r = ok(lock_check(catalog, customer_id, 2, {"lock_id": lock_id}, feature_id="premium_request"))
    assert r["required_balance"] == 6 and r["balance"]["remaining"] == 94
    catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "confirm", "override_value": 5})
    assert balance_of(catalog, customer_id, "credits")["remaining"] == 85


def test_a_lock_that_does_not_fit_takes_nothing(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    r = ok(lock_check(catalog, customer_id, 101, {"lock_id": lock_id}))
    assert r["allowed"] is False
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 100
    fails(
        catalog.post("/v1/balances.finalize", {"lock_id": lock_id, "action": "release"}),
        404,
        "lock_not_found",
    )


def test_a_disabled_lock_is_a_plain_check(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    r = ok(lock_check(catalog, customer_id, 10, {"lock_id": lock_id, "enabled": False}))
    assert r["allowed"] is True and r["balance"]["remaining"] == 100
    fails(
        catalog.post("/v1/balances.finalize", {"lock_id": lock_id, "action": "confirm"}),
        404,
        "lock_not_found",
    )


def test_a_zero_lock_on_a_feature_the_customer_lacks_is_allowed(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    lock_id = unique("lock")
    r = ok(lock_check(catalog, customer_id, 0, {"lock_id": lock_id}))
    assert r["allowed"] is True
    catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "release"})


@pytest.mark.parametrize(
    ("feature_id", "code"), [("seats", "invalid_request"), ("sso", "invalid_request")]
)
def test_a_lock_needs_a_consumable_feature(catalog: Api, feature_id: str, code: str) -> None:
    customer_id = new_customer(catalog, "team", "enterprise")
    r = lock_check(catalog, customer_id, 1, {"lock_id": unique("lock")}, feature_id=feature_id)
    fails(r, 400, code)


def test_lock_expiry_must_be_within_a_day(server: Server, catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    now = to_ms(server.clock.now)
    day = 24 * 3600 * 1000
    for expires_at in (now + day + 1, now - 1, now, "tomorrow"):
        r = lock_check(
            catalog, customer_id, 1, {"lock_id": unique("lock"), "expires_at": expires_at}
        )
        message = fails(r, 400, "invalid_inputs")
        assert "expires_at" in message
    ok(lock_check(catalog, customer_id, 1, {"lock_id": unique("lock"), "expires_at": now + day}))
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 99


def test_a_lock_expires_by_itself_on_the_clock(server: Server, catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    short, default = unique("lock"), unique("lock")
    expires_at = to_ms(server.clock.now + timedelta(minutes=5))
    ok(lock_check(catalog, customer_id, 20, {"lock_id": short, "expires_at": expires_at}))
    ok(lock_check(catalog, customer_id, 30, {"lock_id": default}))
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 50
    server.clock.advance(minutes=4)
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 50
    server.clock.advance(minutes=2)
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 70
    fails(
        catalog.post("/v1/balances.finalize", {"lock_id": short, "action": "confirm"}),
        409,
        "lock_already_finalized",
    )
    # the default lifetime is one day
    server.clock.advance(hours=23, minutes=50)
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 70
    server.clock.advance(minutes=10)
    r = catalog.rpc("balances.check", {"customer_id": customer_id, "feature_id": "messages"})
    assert r["balance"]["remaining"] == 100
    fails(
        catalog.post("/v1/balances.finalize", {"lock_id": default, "action": "release"}),
        409,
        "lock_already_finalized",
    )


def test_an_expired_lock_is_released_by_a_track_too(server: Server, catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    expires_at = to_ms(server.clock.now + timedelta(seconds=30))
    ok(lock_check(catalog, customer_id, 100, {"lock_id": lock_id, "expires_at": expires_at}))
    body = {"customer_id": customer_id, "feature_id": "messages", "overage_behavior": "reject"}
    fails(catalog.post("/v1/balances.track", body), 400, "insufficient_balance")
    server.clock.advance(seconds=31)
    assert catalog.rpc("balances.track", body)["balance"]["remaining"] == 99


def test_a_lock_through_the_legacy_check_path(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    lock_id = unique("lock")
    r = ok(
        catalog.post(
            "/v1/check",
            {
                "customer_id": customer_id,
                "feature_id": "messages",
                "required_balance": 8,
                "lock": {"lock_id": lock_id},
            },
        )
    )
    assert r["allowed"] is True and r["balance"]["remaining"] == 92
    catalog.rpc("balances.finalize", {"lock_id": lock_id, "action": "release"})
    assert balance_of(catalog, customer_id, "messages")["remaining"] == 100


# ---------------------------------------------------------------------------------------------
# entities


@pytest.fixture
def workspace(catalog: Api) -> str:
    """A customer with basic (100 messages a month) and team (2 seats, 100 lifetime messages),
    an entity `u0` (a seat) holding the add-on msg_pack (500 messages), and an entity `u1`."""
    customer_id = new_customer(catalog, "basic", "team")
    for entity_id in ("u0", "u1"):
        catalog.rpc(
            "entities.create",
            {"customer_id": customer_id, "entity_id": entity_id, "feature_id": "seats"},
        )
    catalog.rpc(
        "billing.attach", {"customer_id": customer_id, "plan_id": "msg_pack", "entity_id": "u0"}
    )
    return customer_id


def parts(balance: dict[str, Any]) -> dict[str, Any]:
    return {p["plan_id"]: p["remaining"] for p in balance["breakdown"]}


def test_a_customer_level_check_counts_the_entities_balances(catalog: Api, workspace: str) -> None:
    r = catalog.rpc(
        "balances.check",
        {"customer_id": workspace, "feature_id": "messages", "required_balance": 700},
    )
    assert r["allowed"] is True and r["balance"]["remaining"] == 700 and r["entity_id"] is None
    r = catalog.rpc(
        "balances.check",
        {"customer_id": workspace, "feature_id": "messages", "required_balance": 701},
    )
    assert r["allowed"] is False


def test_an_entity_level_check_sees_its_own_and_the_customers(catalog: Api, workspace: str) -> None:
    body = {"customer_id": workspace, "feature_id": "messages"}
    r = catalog.rpc("balances.check", {**body, "entity_id": "u0", "required_balance": 700})
    assert r["allowed"] is True and r["entity_id"] == "u0"
    r = catalog.rpc("balances.check", {**body, "entity_id": "u1", "required_balance": 201})
    assert r["allowed"] is False and r["balance"]["remaining"] == 200


def test_an_entity_level_track_draws_the_entity_first(catalog: Api, workspace: str) -> None:
    body = {"customer_id": workspace, "feature_id": "messages"}
    r = catalog.rpc("balances.track", {**body, "entity_id": "u0", "value": 520})
    assert r["entity_id"] == "u0"
    assert parts(r["balance"]) == {"msg_pack": 0, "basic": 80, "team": 100}
    # without entity_id the customer's own rows go first (shortest reset first: basic)
    r = catalog.rpc("balances.track", {**body, "value": 10})
    assert parts(r["balance"])["basic"] == 70
    entity = catalog.rpc("entities.get", {"customer_id": workspace, "entity_id": "u0"})
    assert entity["balances"]["messages"]["remaining"] == 170
    # u1 has no balances of its own: it draws the customer's
    r = catalog.rpc("balances.track", {**body, "entity_id": "u1", "value": 5})
    assert parts(r["balance"]) == {"basic": 65, "team": 100}
    r = catalog.rpc(
        "balances.check", {**body, "entity_id": "u1", "send_event": True, "required_balance": 5}
    )
    assert r["allowed"] is True and r["balance"]["remaining"] == 160


def test_entity_checks_and_tracks_through_the_legacy_paths(catalog: Api, workspace: str) -> None:
    body = {"customer_id": workspace, "feature_id": "messages", "entity_id": "u0"}
    r = ok(catalog.post("/v1/track", {**body, "value": 3}))
    assert parts(r["balance"])["msg_pack"] == 497
    r = ok(catalog.post("/v1/check", body, headers={"x-api-version": "1.2"}))
    assert r["code"] == "feature_found" and r["entity_id"] == "u0" and r["balance"] == 697


def test_an_entity_of_another_customer_is_not_found(catalog: Api, workspace: str) -> None:
    other = new_customer(catalog, "basic")
    for name in ("balances.check", "balances.track"):
        r = catalog.post(
            f"/v1/{name}", {"customer_id": other, "feature_id": "messages", "entity_id": "u0"}
        )
        fails(r, 404, "entity_not_found")
    assert balance_of(catalog, other, "messages")["remaining"] == 100


def test_seats_count_entities_and_may_exceed_the_grant(catalog: Api, workspace: str) -> None:
    assert balance_of(catalog, workspace, "seats")["usage"] == 2
    catalog.rpc(
        "entities.create", {"customer_id": workspace, "entity_id": "u2", "feature_id": "seats"}
    )
    seats = balance_of(catalog, workspace, "seats")
    assert (seats["granted"], seats["usage"], seats["remaining"]) == (2, 3, 0)
    r = catalog.rpc("balances.check", {"customer_id": workspace, "feature_id": "seats"})
    assert r["allowed"] is False
    catalog.rpc("entities.delete", {"customer_id": workspace, "entity_id": "u2"})
    assert balance_of(catalog, workspace, "seats")["usage"] == 2


def test_deleting_an_entity_revokes_its_own_balances(catalog: Api, workspace: str) -> None:
    catalog.rpc("entities.delete", {"customer_id": workspace, "entity_id": "u0"})
    assert balance_of(catalog, workspace, "messages")["remaining"] == 200
    fails(
        catalog.post(
            "/v1/balances.check",
            {"customer_id": workspace, "feature_id": "messages", "entity_id": "u0"},
        ),
        404,
        "entity_not_found",
    )


def test_entities_list_pages(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    for n in range(5):
        catalog.rpc("entities.create", {"customer_id": customer_id, "entity_id": f"e{n}"})
    seen: list[str] = []
    cursor = None
    while True:
        body: dict[str, Any] = {"customer_id": customer_id, "limit": 2}
        if cursor is not None:
            body["start_cursor"] = cursor
        page = catalog.rpc("entities.list", body)
        assert len(page["list"]) <= 2
        seen += [e["id"] for e in page["list"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"e{n}" for n in range(5)]


def test_an_entity_can_be_read_without_its_customer(catalog: Api) -> None:
    customer_id = new_customer(catalog)
    entity_id = unique("ent")
    catalog.rpc("entities.create", {"customer_id": customer_id, "entity_id": entity_id})
    got = catalog.rpc("entities.get", {"entity_id": entity_id})
    assert got["customer_id"] == customer_id

"""Over HTTP: issue 10 (Autumn conformance, round 2), items 4-7, about loose grants
(`POST /v1/balances.create`, `POST /v1/balances.update`). The embedded API behaves the same
(tests/services/test_conformance_grants.py). Each test names the Autumn fact it relies on: a
file of Autumn's test suite (useautumn/autumn, server/tests/integration/balances/...) or its
server source, read at HEAD 187c0a7fd."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from allotment.domain.clock import to_ms
from allotment.session import Engine
from allotment.storage.tables import entries
from tests.api.conftest import Api, Server, fails, new_customer, unique


def new_feature(api: Api, consumable: bool = True) -> str:
    feature_id = unique("feat")
    api.rpc(
        "features.create",
        {"feature_id": feature_id, "name": "F", "type": "metered", "consumable": consumable},
    )
    return feature_id


def rows(api: Api, customer_id: str, feature_id: str) -> dict[str, dict[str, Any]]:
    """The customer's breakdown rows of the feature, by id."""
    balances = api.rpc("customers.get", {"customer_id": customer_id})["balances"]
    if feature_id not in balances:
        return {}
    return {r["id"]: r for r in balances[feature_id]["breakdown"]}


def state(found: dict[str, Any]) -> tuple[Any, Any, Any]:
    return found["included_grant"], found["remaining"], found["usage"]


def advance(api: Api, customer_id: str, at: datetime) -> None:
    api.rpc("customers.advance_test_clock", {"customer_id": customer_id, "frozen_time": to_ms(at)})


def assert_ledger_clean(server: Server) -> None:
    report = Engine.over(server.database).verify_ledger()
    assert report.balances_checked and report.ok, report.mismatches


# --- item 4 --------------------------------------------------------------------------------------


def test_next_reset_at_is_the_first_boundary_and_keeps_its_anchor(api: Api, server: Server) -> None:
    """Issue 10 item 4; Autumn `create/create-balance-next-reset-at.test.ts`: next_reset_at
    (Unix ms) is the first reset boundary, verbatim; usage does not move it; at it the balance
    refills and the next boundary is that one + one interval, keeping its day (Jan 31 ->
    Feb 28 -> Mar 31, our anchor rule, §8 item 5)."""
    feature_id = new_feature(api)
    customer_id = new_customer(api)
    first = datetime(2027, 1, 31, 6, 30, tzinfo=UTC)
    body = {"customer_id": customer_id, "feature_id": feature_id, "included_grant": 50}
    month = {"interval": "month"}
    api.rpc(
        "balances.create",
        {**body, "reset": month, "next_reset_at": to_ms(first), "balance_id": "promo"},
    )
    assert rows(api, customer_id, feature_id)["promo"]["reset"]["resets_at"] == to_ms(first)
    api.rpc("balances.track", {"customer_id": customer_id, "feature_id": feature_id, "value": 8})
    advance(api, customer_id, datetime(2027, 1, 31, 6, 29, 59, 999000, tzinfo=UTC))
    assert state(rows(api, customer_id, feature_id)["promo"]) == (50, 42, 8)
    for at, following in [
        (first, datetime(2027, 2, 28, 6, 30, tzinfo=UTC)),
        (datetime(2027, 2, 28, 6, 30, tzinfo=UTC), datetime(2027, 3, 31, 6, 30, tzinfo=UTC)),
    ]:
        advance(api, customer_id, at)
        promo = rows(api, customer_id, feature_id)["promo"]
        assert state(promo) == (50, 50, 0)
        assert promo["reset"]["resets_at"] == to_ms(following)
        api.rpc(
            "balances.track", {"customer_id": customer_id, "feature_id": feature_id, "value": 1}
        )
    assert_ledger_clean(server)


def test_next_reset_at_refusals(api: Api, server: Server) -> None:
    """Issue 10 item 4; `create-balance-next-reset-at.test.ts`: next_reset_at without `reset`,
    or in the past, is refused (here 400 `invalid_inputs`, also at the present instant); with
    `expires_at` our reset-xor-expires_at rule refuses it (autumn-sdk documents them mutually
    exclusive). Nothing is created."""
    feature_id = new_feature(api)
    customer_id = new_customer(api)
    now_ms = to_ms(server.clock.now)
    body = {"customer_id": customer_id, "feature_id": feature_id, "included_grant": 5}
    month = {"interval": "month"}
    for extra in [
        {"next_reset_at": now_ms + 86_400_000},
        {"next_reset_at": now_ms, "reset": month},
        {"next_reset_at": now_ms - 86_400_000, "reset": month},
        {"next_reset_at": now_ms + 10, "reset": month, "expires_at": now_ms + 20},
        {"next_reset_at": "tomorrow", "reset": month},
    ]:
        fails(api.post("/v1/balances.create", {**body, **extra}), 400, "invalid_inputs")
    assert rows(api, customer_id, feature_id) == {}


# --- item 5 --------------------------------------------------------------------------------------


def test_rollover_needs_a_reset_and_a_consumable_feature(api: Api) -> None:
    """Issue 10 item 5; Autumn `validateCreateBalance.ts`: "Rollover cannot be provided for
    one-time balances", "Rollover is not supported for continuous use features" (400)."""
    customer_id = new_customer(api)
    rollover = {"max": 5, "duration": "month", "length": 1}
    for feature_id, reset in [
        (new_feature(api), None),
        (new_feature(api, consumable=False), {"interval": "month"}),
    ]:
        body = {
            "customer_id": customer_id,
            "feature_id": feature_id,
            "included_grant": 5,
            "rollover": rollover,
        }
        if reset is not None:
            body["reset"] = reset
        fails(api.post("/v1/balances.create", body), 400, "invalid_inputs")
        assert rows(api, customer_id, feature_id) == {}


# --- item 6 --------------------------------------------------------------------------------------


def test_balance_id_is_unique_per_customer(api: Api, server: Server) -> None:
    """Issue 10 item 6; Autumn `create/create-balance-with-id.test.ts`: the same customer
    reusing a balance_id -> 409, another customer may use it, and each sees it as its row's
    id; update/delete by balance_id act within the named customer
    (`update/balance/update-balance-with-id.test.ts`, `delete/delete-balance.test.ts`)."""
    feature_id = new_feature(api)
    first, second = new_customer(api), new_customer(api)
    for customer_id, amount in [(first, 100), (second, 200)]:
        api.rpc(
            "balances.create",
            {
                "customer_id": customer_id,
                "feature_id": feature_id,
                "included_grant": amount,
                "balance_id": "shared",
                "reset": {"interval": "month"},
                "rollover": {"max": 10},
            },
        )
    again = {"customer_id": first, "feature_id": feature_id, "included_grant": 1}
    fails(
        api.post("/v1/balances.create", {**again, "balance_id": "shared"}),
        409,
        "duplicate_balance_id",
    )
    api.rpc(
        "balances.update",
        {"customer_id": second, "feature_id": feature_id, "balance_id": "shared", "remaining": 150},
    )
    assert state(rows(api, first, feature_id)["shared"]) == (100, 100, 0)
    assert state(rows(api, second, feature_id)["shared"]) == (200, 150, 50)
    tracked = api.rpc(
        "balances.track", {"customer_id": second, "feature_id": feature_id, "value": 5}
    )
    api.rpc(
        "balances.delete", {"customer_id": first, "feature_id": feature_id, "balance_id": "shared"}
    )
    assert rows(api, first, feature_id) == {}
    reversal = api.rpc("events.reverse", {"event_id": tracked["id"]})
    assert [(e["balance_id"], e["restored"]) for e in reversal["entries"]] == [("shared", 5)]
    # a reset rolls the leftover over: the rollover piece carries no balance_id of its own
    advance(api, second, datetime(2026, 3, 5, tzinfo=UTC))
    balance = api.rpc("customers.get", {"customer_id": second})["balances"][feature_id]
    assert [r["id"] for r in balance["breakdown"]] == ["shared"]
    assert [r["balance"] for r in balance["rollovers"]] == [10]
    assert_ledger_clean(server)


# --- item 7 --------------------------------------------------------------------------------------


def two_rows(api: Api) -> tuple[str, str]:
    """A customer with a monthly row of 100 and a lifetime row of 50 of a new feature."""
    feature_id = new_feature(api)
    customer_id = new_customer(api)
    body = {"customer_id": customer_id, "feature_id": feature_id}
    api.rpc(
        "balances.create",
        {**body, "included_grant": 100, "reset": {"interval": "month"}, "balance_id": "monthly"},
    )
    api.rpc("balances.create", {**body, "included_grant": 50, "balance_id": "lifetime"})
    return customer_id, feature_id


def test_included_grant_with_remaining_on_the_row_interval_names(api: Api, server: Server) -> None:
    """Issue 10 item 7; Autumn `update/included/update-included-basic.test.ts`
    (update-included2): a monthly row of 100, `included_grant: 75` with the remaining set to 50
    and `interval: month` -> that row 75 / 50 / usage 25, the lifetime row untouched; one
    `adjustment` entry with who and why."""
    customer_id, feature_id = two_rows(api)
    body = {"customer_id": customer_id, "feature_id": feature_id}
    api.rpc(
        "balances.update",
        {**body, "included_grant": 75, "remaining": 50, "interval": "month", "reason": "r7"},
    )
    found = rows(api, customer_id, feature_id)
    assert state(found["monthly"]) == (75, 50, 25)
    assert state(found["lifetime"]) == (50, 50, 0)
    with server.database.engine.connect() as connection:
        note = connection.execute(
            select(entries.c.note)
            .where(entries.c.kind == "adjustment")
            .order_by(entries.c.id.desc())
        ).scalar()
    recorded = json.loads(note or "{}")
    assert recorded["reason"] == "r7" and recorded["by"].startswith("api_key:am_sk_test_")
    assert_ledger_clean(server)


def test_included_grant_alone_and_with_add_or_usage(api: Api, server: Server) -> None:
    """Issue 10 item 7; Autumn `updateIncludedGrantV2.ts` sets only the granted amount, so the
    balance stays and usage follows (update-included4: 50 left, granted 150 -> usage 100);
    `updateBalanceV2.ts` applies add_to_balance / usage beside it."""
    customer_id, feature_id = two_rows(api)
    body = {"customer_id": customer_id, "feature_id": feature_id}
    monthly = {**body, "balance_id": "monthly"}
    api.rpc("balances.update", {**monthly, "remaining": 50})
    api.rpc("balances.update", {**monthly, "included_grant": 150})
    assert state(rows(api, customer_id, feature_id)["monthly"]) == (150, 50, 100)
    api.rpc("balances.update", {**monthly, "included_grant": 80, "add_to_balance": 5})
    assert state(rows(api, customer_id, feature_id)["monthly"]) == (80, 55, 25)
    api.rpc(
        "balances.update",
        {**body, "interval": "one_off", "included_grant": 60, "usage": 10},
    )
    assert state(rows(api, customer_id, feature_id)["lifetime"]) == (60, 50, 10)
    assert_ledger_clean(server)


def test_exclusive_update_fields_are_refused(api: Api) -> None:
    """Issue 10 item 7; Autumn `updateBalanceParams.ts`: "Cannot specify both add_to_balance
    and remaining", "Cannot specify both usage and remaining" (400); its docs say usage cannot
    be combined with add_to_balance either (refused here too)."""
    customer_id, feature_id = two_rows(api)
    body = {"customer_id": customer_id, "feature_id": feature_id, "included_grant": 70}
    for extra in [
        {"remaining": 1, "add_to_balance": 1},
        {"remaining": 1, "usage": 1},
        {"add_to_balance": 1, "usage": 1},
    ]:
        fails(api.post("/v1/balances.update", {**body, **extra}), 400, "invalid_inputs")
    assert state(rows(api, customer_id, feature_id)["monthly"]) == (100, 100, 0)

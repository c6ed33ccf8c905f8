"""Over HTTP: customers.advance_test_clock, events.reverse, rollovers in the balance JSON, and
a plan price — with the exact shapes and error codes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from allotment.storage.tables import entries
from tests.api.conftest import Api, Server, fails, new_customer, ok, unique

DAY_MS = 86_400_000


def setup_rollover_plan(api: Api) -> str:
    plan_id = unique("roll")
    feature_id = unique("feat")
    api.rpc("features.create", {"feature_id": feature_id, "type": "metered", "consumable": True})
    api.rpc(
        "plans.create",
        {
            "plan_id": plan_id,
            "name": "Rolls",
            "group": plan_id,
            "price": {"amount": 120, "interval": "year"},
            "items": [
                {
                    "feature_id": feature_id,
                    "included": 10,
                    "reset": {"interval": "day"},
                    "rollover": {
                        "max": 15,
                        "expiry_duration_type": "month",
                        "expiry_duration_length": 1,
                    },
                }
            ],
        },
    )
    return plan_id + ":" + feature_id


def test_advance_test_clock_rolls_over_and_answers_the_client_shape(
    catalog: Api, server: Server
) -> None:
    plan_id, feature_id = setup_rollover_plan(catalog).split(":")
    customer_id = new_customer(catalog, plan_id)
    catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": feature_id, "value": 4}
    )
    start = server.clock.now
    start_ms = int(start.timestamp() * 1000)
    answer = catalog.rpc(
        "customers.advance_test_clock",
        {"customer_id": customer_id, "frozen_time": start_ms + 2 * DAY_MS},
    )
    assert answer == {
        "customer_id": customer_id,
        "frozen_time": start_ms + 2 * DAY_MS,
        "status": "ready",
    }
    balance: dict[str, Any] = catalog.rpc("customers.get", {"customer_id": customer_id})[
        "balances"
    ][feature_id]
    # day 1: 6 left rolls over; day 2: 10 more, capped at 15 (oldest trimmed first)
    assert [r["balance"] for r in balance["rollovers"]] == [5, 10]
    assert (balance["granted"], balance["remaining"], balance["usage"]) == (25, 25, 0)
    assert all(set(r) == {"granted", "balance", "expires_at"} for r in balance["rollovers"])
    # backwards is refused and changes nothing
    fails(
        catalog.post(
            "/v1/customers.advance_test_clock",
            {"customer_id": customer_id, "frozen_time": start_ms},
        ),
        400,
        "invalid_inputs",
    )
    fails(
        catalog.post(
            "/v1/customers.advance_test_clock", {"customer_id": customer_id, "frozen_time": "x"}
        ),
        400,
        "invalid_inputs",
    )
    plan = catalog.rpc("plans.get", {"plan_id": plan_id})
    assert plan["price"] == {"amount": 120, "interval": "year", "interval_count": 1}
    assert plan["items"][0]["rollover"]["max"] == 15


def test_test_clocks_are_sandbox_only_and_need_a_secret_key(server: Server) -> None:
    live = server.client("live")
    customer_id = unique()
    live.rpc("customers.get_or_create", {"customer_id": customer_id})
    fails(
        live.post(
            "/v1/customers.advance_test_clock",
            {"customer_id": customer_id, "frozen_time": 4102444800000},
        ),
        400,
        "invalid_request",
    )
    response = server.client("publishable").post(
        "/v1/customers.advance_test_clock", {"customer_id": customer_id, "frozen_time": 1}
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_request"


def test_reverse_an_event_over_http(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro")
    tracked = catalog.rpc(
        "balances.track",
        {
            "customer_id": customer_id,
            "feature_id": "premium_request",
            "value": 6,
            "idempotency_key": unique("key"),
        },
    )
    reversal = catalog.rpc("events.reverse", {"event_id": tracked["id"]})
    assert reversal["id"] == tracked["id"] and reversal["customer_id"] == customer_id
    assert [(e["feature_id"], e["amount"], e["restored"]) for e in reversal["entries"]] == [
        ("credits", 18, 18)
    ]
    balance = catalog.rpc("customers.get", {"customer_id": customer_id})["balances"]["credits"]
    assert balance["remaining"] == 100
    fails(
        catalog.post("/v1/events.reverse", {"event_id": tracked["id"]}),
        409,
        "event_already_reversed",
    )
    fails(catalog.post("/v1/events.reverse", {"event_id": "evt_0"}), 404, "event_not_found")
    fails(catalog.post("/v1/events.reverse", {}), 400, "invalid_inputs")


def test_another_org_cannot_reverse_or_move_the_clock(catalog: Api, server: Server) -> None:
    customer_id = new_customer(catalog, "pro")
    tracked = catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "premium_request"}
    )
    other = server.client("other")
    fails(other.post("/v1/events.reverse", {"event_id": tracked["id"]}), 404, "event_not_found")
    fails(
        other.post(
            "/v1/customers.advance_test_clock",
            {"customer_id": customer_id, "frozen_time": 4102444800000},
        ),
        404,
        "customer_not_found",
    )
    assert ok(catalog.post("/v1/customers.get", {"customer_id": customer_id}))["id"] == customer_id


def test_an_adjustment_over_http_records_the_key_and_the_reason(
    catalog: Api, server: Server
) -> None:
    customer_id = new_customer(catalog, "pro")
    catalog.rpc(
        "balances.update",
        {
            "customer_id": customer_id,
            "feature_id": "credits",
            "add_to_balance": 7,
            "reason": "refund ticket 42",
        },
    )
    with server.database.engine.connect() as connection:
        note = connection.execute(
            select(entries.c.note)
            .where(entries.c.kind == "adjustment")
            .order_by(entries.c.id.desc())
        ).scalar()
    recorded = json.loads(note or "{}")
    assert recorded["reason"] == "refund ticket 42"
    assert recorded["by"].startswith("api_key:am_sk_test_")
    assert server.keys["secret"].startswith(recorded["by"].removeprefix("api_key:"))

"""Over HTTP: issue 10 (Autumn conformance, round 2), items 1, 2, 3 and 9.

Each test names the Autumn behaviour it relies on: the issue's item (read from Autumn's
integration tests, `server/tests/integration/balances/**` in useautumn/autumn) and, where it
applies, `../shared/reference/autumn-api.md` §8.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from allotment.storage.tables import customers, entries, events
from tests.api.conftest import Api, Server, fails, new_customer, ok, unique


def _count(server: Server, table: Any) -> int:
    with server.database.transaction(write=False) as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _breakdown(api: Api, customer_id: str, feature_id: str) -> list[dict[str, Any]]:
    customer = api.rpc("customers.get", {"customer_id": customer_id})
    rows: list[dict[str, Any]] = customer["balances"][feature_id]["breakdown"]
    return rows


# item 1 ------------------------------------------------------------------------------------


def test_a_lifetime_row_answers_reset_one_off(catalog: Api) -> None:
    """Issue 10 item 1: Autumn shows a lifetime grant's breakdown row with
    `reset: {"interval": "one_off", "interval_count": 1, "resets_at": null}`, not null."""
    customer_id = new_customer(catalog, "team")  # messages: 100, lifetime
    [row] = _breakdown(catalog, customer_id, "messages")
    assert row["reset"] == {"interval": "one_off", "interval_count": 1, "resets_at": None}


def test_a_monthly_row_keeps_its_reset(catalog: Api, server: Server) -> None:
    """The other rows are unchanged: a monthly row answers its interval and next boundary."""
    customer_id = new_customer(catalog, "basic")  # messages: 100 a month
    [row] = _breakdown(catalog, customer_id, "messages")
    assert row["reset"]["interval"] == "month"
    assert row["reset"]["interval_count"] == 1
    assert isinstance(row["reset"]["resets_at"], int)


def test_update_interval_one_off_targets_the_lifetime_rows(catalog: Api) -> None:
    """Issue 10 item 1: `balances.update` with `interval: "one_off"` changes the lifetime rows
    only (a monthly row of 100 beside a lifetime add-on of 500)."""
    customer_id = new_customer(catalog, "basic", "msg_pack")
    catalog.rpc(
        "balances.update",
        {
            "customer_id": customer_id,
            "feature_id": "messages",
            "remaining": 420,
            "interval": "one_off",
        },
    )
    rows = {row["reset"]["interval"]: row for row in _breakdown(catalog, customer_id, "messages")}
    assert (rows["one_off"]["remaining"], rows["one_off"]["included_grant"]) == (420, 500)
    assert (rows["month"]["remaining"], rows["month"]["usage"]) == (100, 0)


# item 2 ------------------------------------------------------------------------------------


def test_track_on_a_boolean_feature_answers_200_and_changes_nothing(
    catalog: Api, server: Server
) -> None:
    """Issue 10 item 2: Autumn answers a track of a boolean feature with 200,
    `{"value": 1, "balance": null, ...}`, and changes nothing (no event, no entry; a key sent
    with it is not used up)."""
    customer_id = new_customer(catalog, "enterprise")
    before = (_count(server, events), _count(server, entries))
    key = unique("key")
    answer = catalog.rpc(
        "balances.track",
        {"customer_id": customer_id, "feature_id": "sso", "idempotency_key": key},
    )
    assert answer["value"] == 1
    assert answer["balance"] is None
    assert answer["customer_id"] == customer_id
    assert (_count(server, events), _count(server, entries)) == before
    # the key was not burned: a metered track may still use it
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "sso", "value": 3})
    new = new_customer(catalog, "basic")
    catalog.rpc(
        "balances.track", {"customer_id": new, "feature_id": "messages", "idempotency_key": key}
    )


def test_check_send_event_on_a_boolean_feature_stays_400(catalog: Api) -> None:
    """Issue 10 item 2 and §8.7: `send_event` on a boolean feature is still a 400."""
    customer_id = new_customer(catalog, "enterprise")
    response = catalog.post(
        "/v1/balances.check",
        {"customer_id": customer_id, "feature_id": "sso", "send_event": True},
    )
    fails(response, 400, "invalid_request")


def test_track_on_a_boolean_feature_still_needs_the_customer(catalog: Api) -> None:
    """Nothing changes, but an unknown customer is still a 404 (API 2.1 and later)."""
    response = catalog.post("/v1/balances.track", {"customer_id": unique(), "feature_id": "sso"})
    fails(response, 404, "customer_not_found")


# item 3 ------------------------------------------------------------------------------------


def test_track_answers_the_pool_once_the_own_balance_absorbs_nothing(catalog: Api) -> None:
    """Issue 10 item 3 (and §8.3): while the feature's own balance absorbs some of the value,
    track's `balance` is the feature's own (even when a pool paid the rest); once it is at 0
    and the credit pool pays all of it, `balance` is the pool's."""
    customer_id = new_customer(catalog, "pro")  # credits: 100, 3 per premium_request
    catalog.rpc(
        "balances.create",
        {"customer_id": customer_id, "feature_id": "premium_request", "included_grant": 5},
    )

    def track(value: int) -> dict[str, Any]:
        body = {"customer_id": customer_id, "feature_id": "premium_request", "value": value}
        balance: dict[str, Any] = catalog.rpc("balances.track", body)["balance"]
        return balance

    first = track(2)  # own 5 → 3
    assert (first["feature_id"], first["remaining"]) == ("premium_request", 3)
    second = track(5)  # own 3 → 0, the pool pays 2 * 3 = 6
    assert (second["feature_id"], second["remaining"]) == ("premium_request", 0)
    third = track(1)  # own already 0: the pool pays all of it, 3 credits
    assert (third["feature_id"], third["remaining"]) == ("credits", 91)
    refund = track(-1)  # refunds go in reverse order: the pool first, so the pool answers
    assert (refund["feature_id"], refund["remaining"]) == ("credits", 94)


def test_track_answers_the_own_balance_when_nothing_could_pay(catalog: Api) -> None:
    """With every balance empty nothing pays (cap): the answer stays the feature's own."""
    customer_id = new_customer(catalog)
    catalog.rpc(
        "balances.create",
        {"customer_id": customer_id, "feature_id": "premium_request", "included_grant": 1},
    )
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "premium_request"})
    answer = catalog.rpc(
        "balances.track", {"customer_id": customer_id, "feature_id": "premium_request"}
    )
    assert (answer["balance"]["feature_id"], answer["balance"]["remaining"]) == (
        "premium_request",
        0,
    )


# item 9 ------------------------------------------------------------------------------------


def test_api_2_0_check_and_track_create_a_missing_customer(catalog: Api, server: Server) -> None:
    """Issue 10 item 9 (and reference §2.3/§2.4): before API 2.1, check and track create an
    unknown customer, from `customer_data` when given."""
    old = server.client("secret", **{"x-api-version": "2.0.0"})
    checked, tracked = unique(), unique()
    answer = old.rpc(
        "balances.check",
        {
            "customer_id": checked,
            "feature_id": "messages",
            "customer_data": {"name": "Ada", "email": "ada@example.com"},
        },
    )
    assert answer["allowed"] is False
    customer = catalog.rpc("customers.get", {"customer_id": checked})
    assert (customer["name"], customer["email"]) == ("Ada", "ada@example.com")
    answer = old.rpc("balances.track", {"customer_id": tracked, "feature_id": "messages"})
    assert answer["customer_id"] == tracked
    assert catalog.rpc("customers.get", {"customer_id": tracked})["id"] == tracked


def test_api_2_1_and_later_answer_404_for_a_missing_customer(server: Server, catalog: Api) -> None:
    """Issue 10 item 9: from API 2.1 on (and with no version header), a missing customer on
    check and track is 404 `customer_not_found`, and nothing is created."""
    before = _count(server, customers)
    for version in ("2.1.0", "2.3.0", "2.5.0", None):
        headers = {"x-api-version": version} if version else {}
        api = server.client("secret", **headers)
        for path in ("/v1/balances.check", "/v1/balances.track"):
            response = api.post(path, {"customer_id": unique(), "feature_id": "messages"})
            fails(response, 404, "customer_not_found")
    assert _count(server, customers) == before


def test_a_publishable_key_never_creates_a_customer(server: Server, catalog: Api) -> None:
    """A publishable key reads only: on API 2.0 its check of a missing customer is a 404."""
    api = server.client("publishable", **{"x-api-version": "2.0.0"})
    response = api.post("/v1/balances.check", {"customer_id": unique(), "feature_id": "messages"})
    fails(response, 404, "customer_not_found")


def test_api_2_0_answers_the_current_shapes(server: Server, catalog: Api) -> None:
    """2.0 is not a 1.x version: the answer keeps the 2.x shape (no legacy `code`)."""
    old = server.client("secret", **{"x-api-version": "2.0.0"})
    answer = ok(old.post("/v1/balances.track", {"customer_id": unique(), "feature_id": "messages"}))
    assert "code" not in answer

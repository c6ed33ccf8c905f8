"""Amounts on the wire: JSON numbers (never strings), exact, written from the Decimal's text."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from tests.api.conftest import Api, new_customer, ok, unique

AMOUNT_KEYS = {
    "granted",
    "remaining",
    "usage",
    "value",
    "required_balance",
    "included",
    "included_grant",
    "prepaid_grant",
    "credit_cost",
    "balance",
    "included_usage",
    "sum",
}


def exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def no_string_amounts(payload: Any, where: str = "$") -> None:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key in AMOUNT_KEYS and value is not None and not isinstance(value, dict):
                assert isinstance(value, (int, Decimal)) and not isinstance(value, bool), (
                    f"{where}.{key} = {value!r} is not a JSON number"
                )
            no_string_amounts(value, f"{where}.{key}")
    elif isinstance(payload, list):
        for position, item in enumerate(payload):
            no_string_amounts(item, f"{where}[{position}]")


def test_the_monetary_example_is_exact_to_the_cent(catalog: Api) -> None:
    """$5 of usd_credits; a basic message costs 0.01: 402 tracks of 1 leave exactly 0.98."""
    customer_id = new_customer(catalog, "usd_free")
    body = {"customer_id": customer_id, "feature_id": "basic_messages"}
    check = catalog.post("/v1/balances.check", {**body, "required_balance": 1})
    assert '"required_balance":0.01' in check.text, check.text
    catalog.post("/v1/balances.track", {**body, "value": 1})
    second = catalog.post("/v1/balances.track", {**body, "value": 1})
    assert '"remaining":4.98' in second.text and '"usage":0.02' in second.text, second.text
    assert '"value":1' in second.text
    last = second
    for _ in range(400):
        last = catalog.post("/v1/balances.track", {**body, "value": 1})
        assert last.status_code == 200, last.text
    assert '"remaining":0.98' in last.text, last.text
    assert '"usage":4.02' in last.text and '"granted":5' in last.text, last.text
    customer = catalog.post("/v1/customers.get", {"customer_id": customer_id})
    assert '"remaining":0.98' in customer.text
    balance = exact(customer.text)["balances"]["usd_credits"]
    assert balance["remaining"] == Decimal("0.98") and balance["usage"] == Decimal("4.02")
    legacy = catalog.post("/v1/check", body, headers={"x-api-version": "1.2"})
    assert '"balance":0.98' in legacy.text and '"required_balance":0.01' in legacy.text
    events = catalog.rpc("events.list", {"customer_id": customer_id, "limit": 1000})["list"]
    assert len(events) == 402


def test_fractions_add_exactly(catalog: Api) -> None:
    customer_id = new_customer(catalog, "basic")
    body = {"customer_id": customer_id, "feature_id": "messages"}
    catalog.post("/v1/balances.track", {**body, "value": 0.1})
    r = catalog.post("/v1/balances.track", {**body, "value": 0.2})
    assert '"usage":0.3,' in r.text and '"remaining":99.7,' in r.text, r.text
    assert '"value":0.2' in r.text
    r = catalog.post("/v1/balances.track", content=json.dumps({**body, "value": 0.000001}))
    assert '"remaining":99.699999,' in r.text, r.text
    r = catalog.post("/v1/balances.track", content=json.dumps({**body, "value": -0.300001}))
    assert '"remaining":100,' in r.text and '"usage":0,' in r.text, r.text


def test_large_and_precise_amounts_round_trip(catalog: Api) -> None:
    plan_id = unique("big")
    raw = (
        f'{{"plan_id":"{plan_id}","name":"Big","group":"{plan_id}",'
        '"items":[{"feature_id":"messages","included":999999999999.999999}]}'
    )
    created = ok(catalog.post("/v1/plans.create", content=raw))
    assert created["items"][0]["included"] == 999999999999.999999
    customer_id = new_customer(catalog, plan_id)
    r = catalog.post(
        "/v1/balances.track",
        content=f'{{"customer_id":"{customer_id}","feature_id":"messages","value":0.000001}}',
    )
    assert '"granted":999999999999.999999' in r.text, r.text
    assert '"remaining":999999999999.999998' in r.text, r.text
    assert "E+" not in r.text and "e+" not in r.text


def test_integers_are_written_as_integers(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro")
    r = catalog.post(
        "/v1/balances.track",
        {"customer_id": customer_id, "feature_id": "premium_request", "value": 6.0},
    )
    assert '"granted":100,' in r.text and '"remaining":82,' in r.text and '"usage":18,' in r.text
    assert re.search(r'"value":6[,}]', r.text), r.text
    r = catalog.post(
        "/v1/balances.track",
        content=f'{{"customer_id":"{customer_id}","feature_id":"premium_request","value":1E+1}}',
    )
    assert '"remaining":52,' in r.text, r.text


def test_no_amount_is_ever_a_string(catalog: Api) -> None:
    customer_id = new_customer(catalog, "pro", "usd_free", "basic", "enterprise")
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "basic_messages"})
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "premium_request"})
    responses = [
        catalog.post("/v1/customers.get", {"customer_id": customer_id}),
        catalog.post(
            "/v1/balances.check", {"customer_id": customer_id, "feature_id": "basic_messages"}
        ),
        catalog.post(
            "/v1/balances.track",
            {"customer_id": customer_id, "feature_id": "messages", "value": "1.5"},
        ),
        catalog.post("/v1/features.list", {}),
        catalog.post("/v1/plans.list", {}),
        catalog.post("/v1/events.list", {"customer_id": customer_id}),
        catalog.post(
            "/v1/events.aggregate", {"customer_id": customer_id, "feature_id": "messages"}
        ),
        catalog.post(
            "/v1/check",
            {"customer_id": customer_id, "feature_id": "basic_messages"},
            headers={"x-api-version": "1.2"},
        ),
        catalog.get(f"/v1/customers/{customer_id}", headers={"x-api-version": "1.2"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        no_string_amounts(exact(response.text), response.request.url.path)
        assert not re.search(r'"(remaining|granted|usage|value|balance)":"', response.text)

"""Bad input over HTTP: a table of hostile requests to the endpoints that write, each of which
must get a 4xx with a stable code and change NOTHING.

The rule (docs/engine.md): bad input gets a clear 4xx error with a stable code and changes
nothing; a 5xx is a bug. Each row names its endpoint, its body (a JSON value, raw text for what
`json.dumps` cannot write such as NaN or 1e309, or raw bytes), and the exact status and code
expected. Around every row the test takes a snapshot (the seeded customer as `customers.get`
shows it, the number of events `events.list` pages through, the row count of `entries`, and
every row of every table but `api_keys`) and asserts it is unchanged afterwards.

`tests/api/test_errors.py` covers the basic validation cases (one wrong type per field, NaN in
the main amount fields, invalid JSON, non-object bodies on three paths, NUL characters); this
table covers the other fields and endpoints, the hostile sizes (10 MB bodies, 10,000 levels of
nesting, 10,000-character ids), bytes that are not UTF-8, and ids in other scripts.

Some inputs that look hostile are not bad input, and are left out: a negative `value` to
`balances.track` (and a negative `required_balance` with `send_event`) is a refund, a negative
`add_to_balance` lowers a balance, and a unicode id is a valid id.

Placeholders in bodies (replaced in the bytes sent): `@C@` the seeded customer (plans basic and
pro, one tracked event), `@W@` a customer whose balance is as high as the server lets it go,
`@EVT@` the seeded event's id and `@N_ARABIC@` / `@N_FULLWIDTH@` / `@N_SUPERSCRIPT@` its number
in other digits, `@LATER@` a time after the test clock's now.

The long run (ALLOTMENT_LONG=1) also sends every row to the legacy REST aliases of its endpoint
(`/v1/track`, `/v1/events`, `/v1/check`, `/v1/entitled`, `/v1/customers`, `/v1/plans`, ...) and
adds bigger versions of the hostile sizes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread
import httpx
import pytest
from sqlalchemy import select

from allotment.api.app import create_app
from allotment.domain.clock import to_ms
from allotment.services import keys
from allotment.session import Engine
from allotment.storage import tables
from allotment.storage.database import Database
from allotment.storage.key_store import KeyStore
from tests.api.conftest import (
    Api,
    PortalTransport,
    fails,
    migrated_database,
    new_customer,
    seed_catalog,
)
from tests.conftest import LONG, FakeClock

pytestmark = pytest.mark.reliability

MB = 1024 * 1024
INVALID = "invalid_inputs"

# ---------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class Row:
    id: str
    endpoint: str  # the RPC name; the long run also sends it to the legacy aliases
    body: Any  # a JSON value; `str`: raw JSON text; `bytes`: raw bytes; callable: built lazily
    status: int = 400
    code: str = INVALID
    headers: dict[str, str] = field(default_factory=dict)


def _raw(body: Any) -> bytes:
    if callable(body):
        body = body()
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


# a request each endpoint accepts (checked by the last test): the size, nesting and encoding
# rows below are these bodies plus a `pad`, so they are bad for that reason alone
VALID: dict[str, dict[str, Any]] = {
    "balances.track": {"customer_id": "@C@", "feature_id": "messages", "value": 1},
    "balances.check": {"customer_id": "@C@", "feature_id": "messages", "send_event": True},
    "balances.create": {"customer_id": "@C@", "feature_id": "messages", "included_grant": 5},
    "balances.update": {"customer_id": "@C@", "feature_id": "messages", "add_to_balance": 5},
    "customers.get_or_create": {"customer_id": "cus_brand_new", "name": "New"},
    "plans.create": {"plan_id": "plan_brand_new", "name": "New"},
    "features.create": {"feature_id": "feature_brand_new", "name": "New", "type": "boolean"},
    "events.reverse": {"event_id": "@EVT@"},
    "customers.advance_test_clock": {"customer_id": "@C@", "frozen_time": "@LATER@"},
}
ENDPOINTS = list(VALID)
ALIASES: dict[str, list[str]] = {
    "balances.track": ["/v1/track", "/v1/events"],
    "balances.check": ["/v1/check", "/v1/entitled"],
    "balances.create": ["/v1/balances/create"],
    "customers.get_or_create": ["/v1/customers"],
    "plans.create": ["/v1/plans", "/v1/products"],
    "features.create": ["/v1/features"],
}


def _padded(endpoint: str, pad: str) -> bytes:
    """The endpoint's valid body with one more key whose JSON text is `pad`."""
    text = json.dumps(VALID[endpoint])
    if endpoint == "customers.advance_test_clock":
        text = text.replace('"@LATER@"', "@LATER@")
    return (text[:-1] + f', "pad": {pad}}}').encode()


def _big(endpoint: str, size: int) -> Callable[[], bytes]:
    return lambda: _padded(endpoint, '"' + "x" * size + '"')


def _garbage(size: int) -> Callable[[], bytes]:
    return lambda: b"x" * size


def _deep(endpoint: str, depth: int) -> Callable[[], bytes]:
    return lambda: _padded(endpoint, '{"a":' * depth + "1" + "}" * depth)


def _common_rows(endpoint: str) -> list[Row]:
    """What every endpoint must refuse the same way."""
    short = endpoint.replace("customers.", "").replace("balances.", "")
    rows = [
        Row(
            f"{short}-10mb-valid-json", endpoint, _big(endpoint, 10 * MB), 413, "payload_too_large"
        ),
        Row(f"{short}-nested-10000", endpoint, _deep(endpoint, 10_000)),
        Row(f"{short}-invalid-utf8", endpoint, _padded(endpoint, '"@BAD_UTF8@"')),
        Row(f"{short}-overlong-utf8", endpoint, _padded(endpoint, '"@OVERLONG_UTF8@"')),
        Row(f"{short}-utf8-encoded-surrogate", endpoint, _padded(endpoint, '"@SURROGATE_UTF8@"')),
        Row(f"{short}-nan-in-extra-key", endpoint, _padded(endpoint, "NaN")),
        Row(f"{short}-form-encoded", endpoint, "customer_id=a&feature_id=b", headers=FORM),
        Row(f"{short}-xml", endpoint, "<request><a>1</a></request>", headers=XML),
    ]
    if endpoint == "balances.track":  # the same for all: once is enough
        rows += [
            Row(f"{short}-10mb-garbage", endpoint, _garbage(10 * MB), 413, "payload_too_large"),
            # nesting over the size limit: refused for its size before it is parsed
            Row(f"{short}-nested-2mb", endpoint, b"[" * (2 * MB), 413, "payload_too_large"),
        ]
    if endpoint not in ("balances.check", "customers.get_or_create"):  # in test_errors.py
        rows += [
            Row(f"{short}-body-{name}", endpoint, text)
            for name, text in [
                ("array", "[]"),
                ("string", '"x"'),
                ("number", "1"),
                ("null", "null"),
            ]
        ]
    if LONG:
        rows.append(Row(f"{short}-nested-100000", endpoint, _deep(endpoint, 100_000)))
        if endpoint == "balances.track":
            rows.append(
                Row(
                    f"{short}-100mb-garbage", endpoint, _garbage(100 * MB), 413, "payload_too_large"
                )
            )
    return rows


FORM = {"content-type": "application/x-www-form-urlencoded"}
XML = {"content-type": "application/xml"}
# CJK, an Arabic ligature, an emoji, a right-to-left mark, an e with a combining acute accent
UNICODE_ID = "顧客-\ufdfa-\U0001f642-\u200f-e\u0301"
WIDE = "\uff57\uff49\uff44\uff45"  # "wide" in fullwidth letters
LONG_ID = "x" * (1_000_000 if LONG else 10_000)
M = {"customer_id": "@C@", "feature_id": "messages"}  # the start of most balance bodies

TRACK = "balances.track"
CHECK = "balances.check"
CREATE = "balances.create"
UPDATE = "balances.update"
CUSTOMER = "customers.get_or_create"
PLAN = "plans.create"
FEATURE = "features.create"
REVERSE = "events.reverse"
CLOCK = "customers.advance_test_clock"
C = '"customer_id":"@C@"'
CM = '"customer_id":"@C@","feature_id":"messages"'

ROWS: list[Row] = [
    # --- balances.track
    Row("track-customer-null", TRACK, {"customer_id": None, "feature_id": "messages"}),
    Row("track-value-object", TRACK, {**M, "value": {}}),
    Row("track-value-bool", TRACK, {**M, "value": True}),
    Row("track-properties-string", TRACK, {**M, "properties": "x"}),
    Row("track-timestamp-fraction", TRACK, {**M, "timestamp": 1.5}),
    Row("track-event-name-number", TRACK, {"customer_id": "@C@", "event_name": 5}),
    Row("track-missing-everything", TRACK, {}),
    Row("track-missing-customer", TRACK, {"feature_id": "messages", "value": 1}),
    Row("track-missing-feature", TRACK, {"customer_id": "@C@", "value": 1}),
    Row("track-both-feature-and-event", TRACK, {**M, "event_name": "messages"}),
    Row("track-value-1e309", TRACK, f'{{{CM},"value":1e309}}'),
    Row("track-value-minus-1e309", TRACK, f'{{{CM},"value":-1e309}}'),
    Row("track-timestamp-infinity", TRACK, f'{{{CM},"timestamp":Infinity}}'),
    Row("track-properties-nan", TRACK, f'{{{CM},"properties":{{"x":NaN}}}}'),
    Row("track-properties-minus-infinity", TRACK, f'{{{CM},"properties":{{"x":-Infinity}}}}'),
    # 1e309 is no double: a JSON reader would take it as Infinity, like NaN it is no value
    Row("track-properties-1e309", TRACK, f'{{{CM},"properties":{{"x":1e309}}}}'),
    Row("track-value-1e-7", TRACK, f'{{{CM},"value":1e-7}}'),
    Row("track-value-7-decimals", TRACK, f'{{{CM},"value":12.0000001}}'),
    Row("track-value-just-over-1e12", TRACK, f'{{{CM},"value":1000000000000.000001}}'),
    Row("track-value-1e12-plus-1", TRACK, {**M, "value": 10**12 + 1}),
    Row("track-refund-over-1e12", TRACK, {**M, "value": -(10**12) - 1}),
    Row(
        "track-unicode-unknown-customer",
        TRACK,
        {**M, "customer_id": UNICODE_ID},
        404,
        "customer_not_found",
    ),
    Row(
        "track-unicode-unknown-feature",
        TRACK,
        {**M, "feature_id": UNICODE_ID},
        404,
        "feature_not_found",
    ),
    Row(
        "track-unknown-event-name",
        TRACK,
        {"customer_id": "@C@", "event_name": "nope"},
        404,
        "feature_not_found",
    ),
    Row("track-unicode-space-customer", TRACK, {**M, "customer_id": "\u3000\u2003"}),
    Row("track-long-customer-id", TRACK, {**M, "customer_id": LONG_ID}),
    Row("track-long-feature-id", TRACK, {**M, "feature_id": LONG_ID}),
    Row("track-long-entity-id", TRACK, {**M, "entity_id": LONG_ID}),
    Row("track-long-idempotency-key", TRACK, {**M, "idempotency_key": LONG_ID}),
    # API 1.x creates unknown customers on track: not one with a bad id
    Row(
        "track-legacy-long-customer-id",
        TRACK,
        {**M, "customer_id": LONG_ID},
        headers={"x-api-version": "1.2"},
    ),
    Row(
        "track-legacy-customer-data-string",
        TRACK,
        {**M, "customer_id": "cus_legacy_new", "customer_data": "x"},
        headers={"x-api-version": "1.2"},
    ),
    # --- balances.check (send_event or a lock: these would write)
    Row("check-required-1e309", CHECK, f'{{{CM},"send_event":true,"required_balance":1e309}}'),
    Row("check-quantity-nan", CHECK, f'{{{CM},"send_event":true,"required_quantity":NaN}}'),
    Row("check-quantity-infinity", CHECK, f'{{{CM},"required_quantity":Infinity}}'),
    Row("check-required-7-decimals", CHECK, {**M, "send_event": True, "required_balance": "1e-7"}),
    Row("check-required-over-1e12", CHECK, {**M, "send_event": True, "required_balance": 10**13}),
    Row(
        "check-refund-over-1e12",
        CHECK,
        {**M, "send_event": True, "required_balance": -(10**12) - 1},
    ),
    Row("check-properties-1e309", CHECK, f'{{{CM},"send_event":true,"properties":{{"x":1e309}}}}'),
    Row("check-lock-long-id", CHECK, {**M, "lock": {"lock_id": LONG_ID}}),
    Row("check-lock-expiry-fraction", CHECK, {**M, "lock": {"lock_id": "l", "expires_at": 1.5}}),
    Row("check-lock-expiry-nan", CHECK, f'{{{CM},"lock":{{"lock_id":"l","expires_at":NaN}}}}'),
    Row("check-customer-data-string", CHECK, {**M, "customer_data": "x"}),
    Row("check-missing-feature", CHECK, {"customer_id": "@C@", "send_event": True}),
    Row(
        "check-unicode-unknown-customer",
        CHECK,
        {**M, "customer_id": UNICODE_ID, "send_event": True},
        404,
        "customer_not_found",
    ),
    Row(
        "check-unicode-unknown-feature",
        CHECK,
        {**M, "feature_id": UNICODE_ID, "send_event": True},
        404,
        "feature_not_found",
    ),
    Row(
        "check-unknown-entity",
        CHECK,
        {**M, "entity_id": "ghost", "send_event": True},
        404,
        "entity_not_found",
    ),
    Row("check-long-customer-id", CHECK, {**M, "customer_id": LONG_ID, "send_event": True}),
    Row(
        "check-legacy-long-customer-id",
        CHECK,
        {**M, "customer_id": LONG_ID},
        headers={"x-api-version": "1.2"},
    ),
    # --- balances.create
    Row("create-missing-feature", CREATE, {"customer_id": "@C@", "included_grant": 5}),
    Row("create-missing-amount", CREATE, M),
    Row("create-included-and-unlimited", CREATE, {**M, "included_grant": 5, "unlimited": True}),
    Row("create-included-string", CREATE, {**M, "included_grant": "lots"}),
    Row("create-included-list", CREATE, {**M, "included_grant": [5]}),
    Row("create-reset-string", CREATE, {**M, "included_grant": 5, "reset": "month"}),
    Row(
        "create-reset-unknown-interval",
        CREATE,
        {**M, "included_grant": 5, "reset": {"interval": "fortnight"}},
    ),
    Row(
        "create-reset-count-0",
        CREATE,
        {**M, "included_grant": 5, "reset": {"interval": "month", "interval_count": 0}},
    ),
    Row("create-expiry-string", CREATE, {**M, "included_grant": 5, "expires_at": "tomorrow"}),
    Row("create-expiry-in-the-past", CREATE, {**M, "included_grant": 5, "expires_at": 1}),
    Row("create-expiry-1e20", CREATE, {**M, "included_grant": 5, "expires_at": 10**20}),
    Row("create-expiry-1e309", CREATE, f'{{{CM},"included_grant":5,"expires_at":1e309}}'),
    Row("create-included-negative", CREATE, {**M, "included_grant": -5}),
    Row("create-included-7-decimals", CREATE, {**M, "included_grant": "0.0000001"}),
    Row("create-included-nan", CREATE, f'{{{CM},"included_grant":NaN}}'),
    Row("create-included-infinity", CREATE, f'{{{CM},"included_grant":Infinity}}'),
    Row("create-included-minus-infinity", CREATE, f'{{{CM},"included_grant":-Infinity}}'),
    Row("create-included-1e309", CREATE, f'{{{CM},"included_grant":1e309}}'),
    Row("create-included-over-1e12", CREATE, {**M, "included_grant": 10**12 + 1}),
    Row(
        "create-rollover-max-1e309",
        CREATE,
        f'{{{CM},"included_grant":5,"reset":{{"interval":"month"}},"rollover":{{"max":1e309}}}}',
    ),
    Row(
        "create-rollover-without-reset", CREATE, {**M, "included_grant": 5, "rollover": {"max": 1}}
    ),
    Row("create-boolean-feature", CREATE, {**M, "feature_id": "sso", "included_grant": 5}),
    Row(
        "create-unknown-customer",
        CREATE,
        {**M, "customer_id": "nobody", "included_grant": 5},
        404,
        "customer_not_found",
    ),
    Row(
        "create-unicode-unknown-customer",
        CREATE,
        {**M, "customer_id": UNICODE_ID, "included_grant": 5},
        404,
        "customer_not_found",
    ),
    Row(
        "create-unknown-feature",
        CREATE,
        {**M, "feature_id": "nope", "included_grant": 5},
        404,
        "feature_not_found",
    ),
    Row(
        "create-unknown-entity",
        CREATE,
        {**M, "entity_id": "ghost", "included_grant": 5},
        404,
        "entity_not_found",
    ),
    Row("create-long-balance-id", CREATE, {**M, "included_grant": 5, "balance_id": LONG_ID}),
    Row("create-long-customer-id", CREATE, {**M, "customer_id": LONG_ID, "included_grant": 5}),
    # --- balances.update
    Row("update-nothing-to-do", UPDATE, M),
    Row("update-two-at-once", UPDATE, {**M, "remaining": 5, "add_to_balance": 1}),
    Row("update-missing-customer", UPDATE, {"feature_id": "messages", "remaining": 5}),
    Row("update-remaining-list", UPDATE, {**M, "remaining": [5]}),
    Row("update-usage-bool", UPDATE, {**M, "usage": True}),
    Row("update-remaining-negative", UPDATE, {**M, "remaining": -5}),
    Row("update-usage-negative", UPDATE, {**M, "usage": -5}),
    Row("update-included-negative", UPDATE, {**M, "included_grant": -5}),
    Row("update-remaining-7-decimals", UPDATE, {**M, "remaining": "0.0000001"}),
    Row("update-add-7-decimals", UPDATE, f'{{{CM},"add_to_balance":1.0000001}}'),
    Row("update-remaining-nan", UPDATE, f'{{{CM},"remaining":NaN}}'),
    Row("update-add-infinity", UPDATE, f'{{{CM},"add_to_balance":Infinity}}'),
    Row("update-add-minus-infinity", UPDATE, f'{{{CM},"add_to_balance":-Infinity}}'),
    Row("update-remaining-1e309", UPDATE, f'{{{CM},"remaining":1e309}}'),
    Row("update-remaining-over-1e12", UPDATE, {**M, "remaining": 10**12 + 1}),
    Row("update-usage-over-1e12", UPDATE, {**M, "usage": 10**12 + 1}),
    Row("update-add-over-1e12", UPDATE, {**M, "add_to_balance": 10**12 + 1}),
    Row("update-subtract-over-1e12", UPDATE, {**M, "add_to_balance": -(10**12) - 1}),
    # each addition is within 10^12, but the balance would pass 9.2 * 10^12 (a signed 64-bit
    # count of millionths): see the `whale` fixture
    Row(
        "update-add-past-the-64-bit-balance",
        UPDATE,
        {"customer_id": "@W@", "feature_id": "messages", "add_to_balance": 10**12},
    ),
    Row("update-reason-too-long", UPDATE, {**M, "remaining": 5, "reason": "r" * 100_000}),
    Row(
        "update-unknown-customer",
        UPDATE,
        {**M, "customer_id": "nobody", "remaining": 5},
        404,
        "customer_not_found",
    ),
    Row(
        "update-unicode-unknown-customer",
        UPDATE,
        {**M, "customer_id": UNICODE_ID, "remaining": 5},
        404,
        "customer_not_found",
    ),
    Row(
        "update-unknown-feature",
        UPDATE,
        {**M, "feature_id": "nope", "remaining": 5},
        404,
        "feature_not_found",
    ),
    Row(
        "update-unknown-balance-id",
        UPDATE,
        {**M, "remaining": 5, "balance_id": "nope"},
        404,
        "balance_not_found",
    ),
    # an interval no balance can have: refused as an invalid input, as balances.create does
    Row(
        "update-unknown-interval",
        UPDATE,
        {**M, "remaining": 5, "interval": "fortnight"},
        400,
        "invalid_inputs",
    ),
    Row(
        "update-unknown-entity",
        UPDATE,
        {**M, "remaining": 5, "entity_id": "ghost"},
        404,
        "entity_not_found",
    ),
    Row("update-long-customer-id", UPDATE, {**M, "customer_id": LONG_ID, "remaining": 5}),
    # --- customers.get_or_create
    Row("customer-missing-id", CUSTOMER, {"name": "x"}),
    Row("customer-id-null", CUSTOMER, {"customer_id": None}),
    Row("customer-id-number", CUSTOMER, {"customer_id": 5}),
    Row("customer-id-object", CUSTOMER, {"customer_id": {"id": "x"}}),
    Row("customer-name-list", CUSTOMER, {"customer_id": "cus_new_1", "name": ["a"]}),
    Row("customer-fingerprint-number", CUSTOMER, {"customer_id": "cus_new_1", "fingerprint": 5}),
    Row("customer-metadata-string", CUSTOMER, {"customer_id": "cus_new_1", "metadata": "m"}),
    Row("customer-metadata-nan", CUSTOMER, '{"customer_id":"cus_new_1","metadata":{"n":NaN}}'),
    Row(
        "customer-metadata-infinity",
        CUSTOMER,
        '{"customer_id":"cus_new_1","metadata":{"n":Infinity}}',
    ),
    Row(
        "customer-metadata-minus-infinity",
        CUSTOMER,
        '{"customer_id":"cus_new_1","metadata":{"n":[-Infinity]}}',
    ),
    Row("customer-metadata-1e309", CUSTOMER, '{"customer_id":"cus_new_1","metadata":{"n":1e309}}'),
    Row("customer-unicode-space-id", CUSTOMER, {"customer_id": "\u3000\u00a0\u2003"}),
    Row("customer-long-id", CUSTOMER, {"customer_id": LONG_ID}),
    Row("customer-long-id-alias", CUSTOMER, {"id": LONG_ID}),
    Row("customer-invalid-utf8-id", CUSTOMER, b'{"customer_id":"cus_\xff\xfe"}'),
    Row("customer-surrogate-id", CUSTOMER, b'{"customer_id":"cus_\xed\xb0\x80"}'),
    Row("customer-escaped-lone-surrogate", CUSTOMER, '{"customer_id":"cus_\\udc00"}'),
    # --- plans.create
    Row("plan-missing-id", PLAN, {"name": "x"}),
    Row("plan-id-number", PLAN, {"plan_id": 5, "name": "x"}),
    Row("plan-group-number", PLAN, {"plan_id": "plan_new_1", "group": 5}),
    Row("plan-items-object", PLAN, {"plan_id": "plan_new_1", "items": {"feature_id": "messages"}}),
    Row("plan-item-null", PLAN, {"plan_id": "plan_new_1", "items": [None]}),
    Row("plan-item-missing-feature", PLAN, {"plan_id": "plan_new_1", "items": [{"included": 1}]}),
    Row(
        "plan-item-unlimited-and-included",
        PLAN,
        {
            "plan_id": "plan_new_1",
            "items": [{"feature_id": "messages", "unlimited": True, "included": 5}],
        },
    ),
    Row(
        "plan-item-boolean-with-amount",
        PLAN,
        {"plan_id": "plan_new_1", "items": [{"feature_id": "sso", "included": 5}]},
    ),
    Row(
        "plan-item-included-1e309",
        PLAN,
        '{"plan_id":"plan_new_1","items":[{"feature_id":"messages","included":1e309}]}',
    ),
    Row(
        "plan-item-included-infinity",
        PLAN,
        '{"plan_id":"plan_new_1","items":[{"feature_id":"messages","included":Infinity}]}',
    ),
    Row(
        "plan-item-included-over-1e12",
        PLAN,
        {"plan_id": "plan_new_1", "items": [{"feature_id": "messages", "included": 10**12 + 1}]},
    ),
    Row(
        "plan-item-rollover-negative",
        PLAN,
        {
            "plan_id": "plan_new_1",
            "items": [
                {
                    "feature_id": "messages",
                    "included": 1,
                    "reset": {"interval": "month"},
                    "rollover": {"max": -1},
                }
            ],
        },
    ),
    Row(
        "plan-item-rollover-over-100-percent",
        PLAN,
        {
            "plan_id": "plan_new_1",
            "items": [
                {
                    "feature_id": "messages",
                    "included": 1,
                    "reset": {"interval": "month"},
                    "rollover": {"max_percentage": 101},
                }
            ],
        },
    ),
    Row(
        "plan-price-negative",
        PLAN,
        {"plan_id": "plan_new_1", "price": {"amount": -1, "interval": "month"}},
    ),
    Row(
        "plan-price-7-decimals",
        PLAN,
        {"plan_id": "plan_new_1", "price": {"amount": "9.9999999", "interval": "month"}},
    ),
    Row(
        "plan-price-nan", PLAN, '{"plan_id":"plan_new_1","price":{"amount":NaN,"interval":"month"}}'
    ),
    Row(
        "plan-price-1e309",
        PLAN,
        '{"plan_id":"plan_new_1","price":{"amount":1e309,"interval":"month"}}',
    ),
    Row(
        "plan-price-over-1e12",
        PLAN,
        {"plan_id": "plan_new_1", "price": {"amount": 10**13, "interval": "month"}},
    ),
    Row(
        "plan-price-unknown-interval",
        PLAN,
        {"plan_id": "plan_new_1", "price": {"amount": 1, "interval": "fortnight"}},
    ),
    Row("plan-metadata-1e309", PLAN, '{"plan_id":"plan_new_1","metadata":{"n":1e309}}'),
    Row("plan-long-id", PLAN, {"plan_id": LONG_ID}),
    Row(
        "plan-unicode-unknown-feature",
        PLAN,
        {"plan_id": "plan_new_1", "items": [{"feature_id": UNICODE_ID}]},
        404,
        "feature_not_found",
    ),
    # --- features.create
    Row("feature-missing-type", FEATURE, {"feature_id": "feature_new_1", "name": "x"}),
    Row("feature-type-number", FEATURE, {"feature_id": "feature_new_1", "type": 5}),
    Row(
        "feature-metered-without-consumable",
        FEATURE,
        {"feature_id": "feature_new_1", "type": "metered"},
    ),
    Row("feature-long-id", FEATURE, {"feature_id": LONG_ID, "type": "boolean"}),
    Row("feature-unicode-space-id", FEATURE, {"feature_id": "\u2003", "type": "boolean"}),
    Row(
        "feature-event-names-numbers",
        FEATURE,
        {"feature_id": "feature_new_1", "type": "metered", "consumable": True, "event_names": [5]},
    ),
    Row(
        "feature-display-string",
        FEATURE,
        {"feature_id": "feature_new_1", "type": "boolean", "display": "d"},
    ),
    Row(
        "feature-display-nan",
        FEATURE,
        '{"feature_id":"feature_new_1","type":"boolean","display":{"s":NaN}}',
    ),
    Row(
        "feature-display-1e309",
        FEATURE,
        '{"feature_id":"feature_new_1","type":"boolean","display":{"s":1e309}}',
    ),
    Row(
        "feature-credit-schema-empty",
        FEATURE,
        {"feature_id": "feature_new_1", "type": "credit_system", "credit_schema": []},
    ),
    Row(
        "feature-credit-cost-zero",
        FEATURE,
        {
            "feature_id": "feature_new_1",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": "messages", "credit_cost": 0}],
        },
    ),
    Row(
        "feature-credit-cost-1e309",
        FEATURE,
        '{"feature_id":"feature_new_1","type":"credit_system",'
        '"credit_schema":[{"metered_feature_id":"messages","credit_cost":1e309}]}',
    ),
    Row(
        "feature-credit-cost-over-1e12",
        FEATURE,
        {
            "feature_id": "feature_new_1",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": "messages", "credit_cost": 10**12 + 1}],
        },
    ),
    Row(
        "feature-credit-unicode-unknown-feature",
        FEATURE,
        {
            "feature_id": "feature_new_1",
            "type": "credit_system",
            "credit_schema": [{"metered_feature_id": UNICODE_ID, "credit_cost": 1}],
        },
        404,
        "feature_not_found",
    ),
    # --- events.reverse
    Row("reverse-nothing", REVERSE, {}),
    Row("reverse-both", REVERSE, {"event_id": "@EVT@", "idempotency_key": "seed-event"}),
    Row("reverse-id-number", REVERSE, {"event_id": 5}),
    Row("reverse-id-list", REVERSE, {"event_id": ["@EVT@"]}),
    Row("reverse-empty-id", REVERSE, {"event_id": ""}),
    Row("reverse-empty-key", REVERSE, {"idempotency_key": ""}),
    Row("reverse-long-id", REVERSE, {"event_id": LONG_ID}),
    Row("reverse-long-key", REVERSE, {"idempotency_key": LONG_ID}),
    Row("reverse-unknown-id", REVERSE, {"event_id": "evt_999999999"}, 404, "event_not_found"),
    Row("reverse-huge-id", REVERSE, {"event_id": "evt_" + "9" * 40}, 404, "event_not_found"),
    Row("reverse-unknown-key", REVERSE, {"idempotency_key": "nope"}, 404, "event_not_found"),
    Row("reverse-unicode-id", REVERSE, {"event_id": UNICODE_ID}, 404, "event_not_found"),
    # the seeded event's number written in other digits names no event
    Row(
        "reverse-id-arabic-indic-digits",
        REVERSE,
        {"event_id": "evt_@N_ARABIC@"},
        404,
        "event_not_found",
    ),
    Row(
        "reverse-id-fullwidth-digits",
        REVERSE,
        {"event_id": "@N_FULLWIDTH@"},
        404,
        "event_not_found",
    ),
    Row(
        "reverse-id-superscript-digits",
        REVERSE,
        {"event_id": "evt_@N_SUPERSCRIPT@"},
        404,
        "event_not_found",
    ),
    # --- customers.advance_test_clock
    Row("clock-missing-everything", CLOCK, {}),
    Row("clock-missing-time", CLOCK, {"customer_id": "@C@"}),
    Row("clock-time-string", CLOCK, {"customer_id": "@C@", "frozen_time": "soon"}),
    Row("clock-time-fraction", CLOCK, {"customer_id": "@C@", "frozen_time": 1.5}),
    Row("clock-time-bool", CLOCK, {"customer_id": "@C@", "frozen_time": True}),
    Row("clock-time-nan", CLOCK, f'{{{C},"frozen_time":NaN}}'),
    Row("clock-time-infinity", CLOCK, f'{{{C},"frozen_time":Infinity}}'),
    Row("clock-time-minus-infinity", CLOCK, f'{{{C},"frozen_time":-Infinity}}'),
    Row("clock-time-1e309", CLOCK, f'{{{C},"frozen_time":1e309}}'),
    Row("clock-time-negative", CLOCK, {"customer_id": "@C@", "frozen_time": -1}),
    Row("clock-time-1e30", CLOCK, {"customer_id": "@C@", "frozen_time": 10**30}),
    Row("clock-time-backwards", CLOCK, {"customer_id": "@C@", "frozen_time": 1_700_000_000_000}),
    Row(
        "clock-unknown-customer",
        CLOCK,
        {"customer_id": "nobody", "frozen_time": "@LATER@"},
        404,
        "customer_not_found",
    ),
    Row(
        "clock-unicode-unknown-customer",
        CLOCK,
        {"customer_id": UNICODE_ID, "frozen_time": "@LATER@"},
        404,
        "customer_not_found",
    ),
    Row(
        "clock-fullwidth-customer",
        CLOCK,
        {"customer_id": WIDE, "frozen_time": "@LATER@"},
        404,
        "customer_not_found",
    ),
    Row("clock-long-customer-id", CLOCK, {"customer_id": LONG_ID, "frozen_time": "@LATER@"}),
]
for _endpoint in ENDPOINTS:
    ROWS += _common_rows(_endpoint)

assert len({row.id for row in ROWS}) == len(ROWS), "row ids must be unique"
assert {row.endpoint for row in ROWS} == set(ENDPOINTS)

CASES = [
    pytest.param(row, path, id=row.id if path == f"/v1/{row.endpoint}" else f"{row.id}@{path}")
    for row in ROWS
    for path in [f"/v1/{row.endpoint}", *(ALIASES.get(row.endpoint, []) if LONG else [])]
]

# ---------------------------------------------------------------------------------------------
# the server, the seeded data, the snapshot


SUPERSCRIPTS = "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"


def _digits(number: str, zero: int) -> str:
    """`number` in the decimal digits of another script, whose zero is code point `zero`."""
    return "".join(chr(zero + int(digit)) for digit in number)


@dataclass
class Bench:
    kind: str
    database: Database
    clock: FakeClock
    api: Api
    subject: str = ""
    whale: str = ""
    event_id: str = ""
    places: dict[bytes, bytes] = field(default_factory=dict)
    last: dict[str, Any] | None = None  # the snapshot after the last row (the next one's before)

    def placeholders(self, customer: str, event_id: str) -> dict[bytes, bytes]:
        number = event_id.removeprefix("evt_")
        later = to_ms(self.clock.now) + 86_400_000
        return {
            b"@C@": customer.encode(),
            b"@W@": self.whale.encode(),
            b"@EVT@": event_id.encode(),
            b'"@LATER@"': str(later).encode(),
            b"@LATER@": str(later).encode(),
            b"@N_ARABIC@": _digits(number, 0x0660).encode(),  # ARABIC-INDIC DIGIT ZERO
            b"@N_FULLWIDTH@": _digits(number, 0xFF10).encode(),  # FULLWIDTH DIGIT ZERO
            b"@N_SUPERSCRIPT@": number.translate(
                str.maketrans("0123456789", SUPERSCRIPTS)
            ).encode(),
            b"@BAD_UTF8@": b"\xff\xfe\xfd",
            b"@OVERLONG_UTF8@": b"\xc0\xaf",  # an overlong "/"
            b"@SURROGATE_UTF8@": b"\xed\xa0\x80",  # U+D800 encoded as if it were a character
        }

    def send(
        self, path: str, raw: bytes, headers: dict[str, str], places: dict[bytes, bytes]
    ) -> httpx.Response:
        # placeholders are in the valid part of a padded body, which comes first
        head, tail = (raw[:65536], raw[65536:]) if len(raw) > 65536 else (raw, b"")
        for placeholder, value in places.items():
            head = head.replace(placeholder, value)
        raw = head + tail
        sent = {"content-type": "application/json", **headers}
        return self.api.http.post(path, content=raw, headers=sent)

    def snapshot(self) -> dict[str, Any]:
        customer = self.api.rpc("customers.get", {"customer_id": self.subject})
        events = 0
        cursor: str | None = None
        while True:
            body: dict[str, Any] = {"limit": 1000}
            if cursor:
                body["start_cursor"] = cursor
            page = self.api.rpc("events.list", body)
            events += len(page["list"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        rows: dict[str, list[str]] = {}
        with self.database.transaction(write=False) as connection:
            for table in tables.metadata.sorted_tables:
                if table.name != "api_keys":
                    rows[table.name] = sorted(
                        repr(tuple(row)) for row in connection.execute(select(table))
                    )
        return {
            "balances": customer["balances"],
            "customer": customer,
            "events": events,
            "entries": len(rows["entries"]),
            "rows": rows,
        }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changed = [
        f"{name}: {before[name]!r:.300} -> {after[name]!r:.300}"
        for name in ("events", "entries", "balances")
        if before[name] != after[name]
    ]
    if before["customer"] != after["customer"] and before["balances"] == after["balances"]:
        changed.append("the seeded customer (customers.get) changed")
    for table, rows in before["rows"].items():
        added = sorted(set(after["rows"][table]) - set(rows))
        removed = sorted(set(rows) - set(after["rows"][table]))
        if added or removed:
            changed.append(
                f"table {table}: +{len(added)} -{len(removed)} rows, e.g. "
                f"{(added or removed)[0][:300]}"
            )
    return changed


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bench(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bench]:
    database = migrated_database(request, tmp_path_factory, "bad_inputs")
    clock = FakeClock()
    with database.transaction(write=True) as connection:
        key = keys.create(
            KeyStore(connection), clock.now, org="acme", env="sandbox", publishable=False
        )
    with anyio.from_thread.start_blocking_portal() as portal:
        app = create_app(Engine.over(database, clock=clock))
        http = httpx.Client(
            transport=PortalTransport(app, portal),
            base_url="http://test",
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        bench = Bench(request.param, database, clock, Api(http))
        seed_catalog(bench.api)
        bench.subject = new_customer(bench.api, "basic", "pro")
        track = {"customer_id": bench.subject, "feature_id": "messages", "value": 3}
        event = bench.api.rpc("balances.track", {**track, "idempotency_key": "seed-event"})
        bench.event_id = event["id"]
        bench.whale = _whale(bench.api)
        bench.places = bench.placeholders(bench.subject, bench.event_id)
        yield bench
    database.dispose()


def _whale(api: Api) -> str:
    """A customer whose messages balance is raised by 10^12 at a time (each step is a valid
    request) until the server refuses or nine steps are done: 9 * 10^12 + 100 is just under the
    largest amount a signed 64-bit count of millionths holds (9.22 * 10^12)."""
    whale = new_customer(api, "basic")
    step = {"customer_id": whale, "feature_id": "messages", "add_to_balance": 10**12}
    for _ in range(9):
        if api.post("/v1/balances.update", step).status_code != 200:
            break
    return whale


# ---------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize(("row", "path"), CASES)
def test_bad_input_gets_a_4xx_with_a_stable_code_and_changes_nothing(
    bench: Bench, row: Row, path: str
) -> None:
    before = bench.last or bench.snapshot()
    bench.last = None
    response = bench.send(path, _raw(row.body), row.headers, bench.places)
    after = bench.last = bench.snapshot()
    problems: list[str] = []
    try:
        fails(response, row.status, row.code)
    except AssertionError as error:
        problems.append(f"expected {row.status} {row.code}, got: {str(error)[:600]}")
    except ValueError:  # not JSON
        problems.append(
            f"expected {row.status} {row.code}, got: {response.status_code} {response.text[:300]!r}"
        )
    problems += [f"changed: {change}" for change in _changes(before, after)]
    assert not problems, f"{row.id} ({bench.kind}, POST {path}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_valid_bodies_behind_the_padded_rows_are_accepted(bench: Bench, endpoint: str) -> None:
    """The size, nesting and encoding rows are these bodies plus a `pad` key: without it they
    succeed, so the rows are refused for their size, nesting or bytes alone. Sent for a customer
    and event of their own (after the rows, which must have changed nothing)."""
    bench.last = None  # this test changes things on purpose
    customer = new_customer(bench.api, "basic", "pro")
    track = {"customer_id": customer, "feature_id": "messages", "value": 1}
    event = bench.api.rpc("balances.track", {**track, "idempotency_key": f"valid-{customer}"})
    places = bench.placeholders(customer, event["id"])
    suffix = customer.encode()
    raw = _padded(endpoint, '"a small pad"').replace(b"_brand_new", b"_" + suffix)
    response = bench.send(f"/v1/{endpoint}", raw, {}, places)
    assert response.status_code == 200, f"{endpoint}: {response.status_code} {response.text}"

"""The seed example and more, run by the real `autumn-sdk==1.2.0` against a real server.

The client is always `Autumn(key, server_url=..., fail_open=False)`: autumn-sdk fails open by
default, and its FAIL_OPEN env var is read with bool(str), so "false" would mean on.

autumn-sdk 1.2.0's `features` module cannot be imported (a NameError upstream, in
`models/createfeatureop.py`), so features are created over plain HTTP with the JSON the client
would send; everything else goes through the client. Its numbers come back as floats.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.clients.conftest import (
    ServerProcess,
    Tenant,
    dead_server_url,
    import_client,
    make_tenant,
)

autumn_sdk = import_client("autumn_sdk", "autumn-sdk==1.2.0")
errors = import_client("autumn_sdk.errors", "autumn-sdk==1.2.0")


def client(url: str, key: str) -> Any:
    return autumn_sdk.Autumn(key, server_url=url, fail_open=False, timeout_ms=10_000)


def create_feature(
    tenant: Tenant, feature_id: str, name: str, type_: str, **options: Any
) -> dict[str, Any]:
    """What `autumn.features.create(...)` would send: POST /v1/features.create."""
    created: dict[str, Any] = tenant.post(
        "/v1/features.create",
        {"name": name, "type": type_, "feature_id": feature_id, **options},
    )
    assert created["id"] == feature_id
    return created


def seed_features(tenant: Tenant) -> None:
    create_feature(tenant, "premium_request", "Premium request", "metered", consumable=True)
    create_feature(
        tenant,
        "credits",
        "Credits",
        "credit_system",
        credit_schema=[{"metered_feature_id": "premium_request", "credit_cost": 3.0}],
    )
    create_feature(tenant, "api_call", "API call", "metered", consumable=True)


def create_pro(autumn: Any) -> Any:
    return autumn.plans.create(
        plan_id="pro",
        name="Pro",
        auto_enable=True,
        items=[{"feature_id": "credits", "included": 100, "reset": {"interval": "month"}}],
    )


def error_of(raised: pytest.ExceptionInfo[Any]) -> tuple[int, str]:
    """(HTTP status, error code) of an AutumnDefaultError."""
    error = raised.value
    body = json.loads(error.body)
    assert body["message"]
    return error.status_code, body["code"]


# --- the seed example ----------------------------------------------------------------------------


def test_seed_example(tenant: Tenant) -> None:
    seed_features(tenant)
    autumn = client(tenant.url, tenant.key)
    plan = create_pro(autumn)
    assert (plan.id, plan.auto_enable) == ("pro", True)
    assert plan.items[0].feature_id == "credits"
    assert plan.items[0].included == 100
    assert plan.items[0].reset is not None
    assert plan.items[0].reset.interval == "month"

    customer = autumn.customers.get_or_create(customer_id="user_1")
    assert customer.id == "user_1"
    assert [s.plan_id for s in customer.subscriptions] == ["pro"]

    check = autumn.check(customer_id="user_1", feature_id="premium_request", required_balance=6)
    assert check.allowed is True
    assert check.required_balance == 18
    assert check.balance is not None
    assert check.balance.feature_id == "credits"
    assert check.balance.remaining == 100
    assert check.flag is None

    track = autumn.track(customer_id="user_1", feature_id="premium_request", value=6, async_=False)
    assert track.value == 6
    assert track.balance is not None
    assert track.balance.feature_id == "credits"
    assert (track.balance.remaining, track.balance.usage) == (82, 18)

    outside = autumn.check(customer_id="user_1", feature_id="api_call")
    assert outside.allowed is False
    assert outside.balance is None


def test_client_is_fail_closed() -> None:
    """With fail_open=False, a check against a dead server raises instead of allowing."""
    autumn = client(dead_server_url(), "am_sk_test_whatever")
    with pytest.raises(httpx.ConnectError):
        autumn.check(customer_id="user_1", feature_id="premium_request")


# --- more of the API, on one catalog per server ------------------------------------------------


@dataclass
class Catalog:
    """The seed catalog plus a `booster` add-on (50 lifetime credits) and a `team` add-on
    (3 seats, a non-consumable feature), in one organization shared by this module's tests."""

    tenant: Tenant
    autumn: Any

    def customer(self, label: str) -> str:
        """A new customer (with `pro` auto-enabled); each test uses its own."""
        customer_id = f"{label}_{uuid.uuid4().hex[:6]}"
        created = self.autumn.customers.get_or_create(customer_id=customer_id)
        assert created.balances["credits"].remaining == 100
        return customer_id

    def remaining(self, customer_id: str, feature_id: str = "credits") -> float:
        value: float = (
            self.autumn.customers.get(customer_id=customer_id).balances[feature_id].remaining
        )
        return value


@pytest.fixture(scope="module")
def catalog(allotment_server: ServerProcess) -> Iterator[Catalog]:
    tenant = make_tenant(allotment_server, "autumn-sdk")
    seed_features(tenant)
    create_feature(tenant, "seats", "Seats", "metered", consumable=False)
    autumn = client(tenant.url, tenant.key)
    create_pro(autumn)
    booster = autumn.plans.create(
        plan_id="booster",
        name="Booster",
        add_on=True,
        items=[{"feature_id": "credits", "included": 50}],
    )
    assert booster.add_on is True
    autumn.plans.create(
        plan_id="team", name="Team", add_on=True, items=[{"feature_id": "seats", "included": 3}]
    )
    with autumn:
        yield Catalog(tenant, autumn)


def test_customers_get_and_list(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = f"cust_{uuid.uuid4().hex[:6]}"
    created = autumn.customers.get_or_create(
        customer_id=customer_id, name="Ada", email="ada@example.com"
    )
    assert (created.id, created.name, created.email) == (customer_id, "Ada", "ada@example.com")

    fetched = autumn.customers.get(customer_id=customer_id)
    assert (fetched.id, fetched.name, fetched.email, fetched.env) == (
        customer_id,
        "Ada",
        "ada@example.com",
        "sandbox",
    )
    assert [s.plan_id for s in fetched.subscriptions] == ["pro"]
    credits = fetched.balances["credits"]
    assert (credits.granted, credits.remaining, credits.usage) == (100, 100, 0)
    assert credits.next_reset_at is not None

    again = autumn.customers.get_or_create(customer_id=customer_id)
    assert again.created_at == created.created_at

    listed = autumn.customers.list()
    by_id = {c.id: c for c in listed.list}
    assert customer_id in by_id
    assert by_id[customer_id].name == "Ada"


def test_attach_add_on_stacks_credits(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("attach")
    attached = autumn.billing.attach(customer_id=customer_id, plan_id="booster")
    assert attached.customer_id == customer_id
    assert attached.payment_url is None

    customer = autumn.customers.get(customer_id=customer_id)
    assert sorted(s.plan_id for s in customer.subscriptions) == ["booster", "pro"]
    booster = next(s for s in customer.subscriptions if s.plan_id == "booster")
    assert booster.add_on is True
    credits = customer.balances["credits"]
    assert (credits.granted, credits.remaining) == (150, 150)
    assert sorted(b.plan_id for b in credits.breakdown or []) == ["booster", "pro"]

    track = autumn.track(customer_id=customer_id, feature_id="premium_request", value=10)
    assert track.balance is not None
    assert track.balance.remaining == 120

    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.billing.attach(customer_id=customer_id, plan_id="no_such_plan")
    assert error_of(raised) == (404, "plan_not_found")


def test_events_list_and_aggregate(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("events")
    autumn.track(customer_id=customer_id, feature_id="premium_request", value=2, async_=False)
    autumn.track(
        customer_id=customer_id,
        feature_id="premium_request",
        value=3,
        properties={"model": "large"},
        async_=False,
    )

    events = autumn.events.list(customer_id=customer_id)
    assert sorted(e.value for e in events.list) == [2, 3]
    assert {(e.customer_id, e.feature_id) for e in events.list} == {
        (customer_id, "premium_request")
    }
    assert len({e.id for e in events.list}) == 2
    assert all(e.timestamp > 0 for e in events.list)
    assert [e.properties for e in events.list if e.value == 3] == [{"model": "large"}]

    filtered = autumn.events.list(customer_id=customer_id, feature_id="premium_request", limit=1)
    assert len(filtered.list) == 1

    aggregate = autumn.events.aggregate(
        customer_id=customer_id, feature_id="premium_request", range="24h"
    )
    total = aggregate.total["premium_request"]
    assert (total.count, total.sum) == (2, 5)
    assert sum(period.values.get("premium_request", 0) for period in aggregate.list) == 5


def test_entities_use_seats(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("entities")
    autumn.billing.attach(customer_id=customer_id, plan_id="team")
    assert catalog.remaining(customer_id, "seats") == 3

    entity = autumn.entities.create(
        feature_id="seats", customer_id=customer_id, entity_id="seat_1", name="Alice"
    )
    assert (entity.id, entity.name) == ("seat_1", "Alice")
    seats = autumn.customers.get(customer_id=customer_id).balances["seats"]
    assert (seats.granted, seats.usage, seats.remaining) == (3, 1, 2)

    fetched = autumn.entities.get(entity_id="seat_1", customer_id=customer_id)
    assert (fetched.id, fetched.name) == ("seat_1", "Alice")

    deleted = autumn.entities.delete(entity_id="seat_1", customer_id=customer_id)
    assert deleted.success is True
    assert catalog.remaining(customer_id, "seats") == 3
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.entities.get(entity_id="seat_1", customer_id=customer_id)
    assert raised.value.status_code == 404


def test_lock_then_finalize_confirm_and_release(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("locks")

    held = autumn.check(
        customer_id=customer_id,
        feature_id="premium_request",
        required_balance=2,
        lock={"lock_id": f"{customer_id}_confirm"},
    )
    assert held.allowed is True
    assert held.required_balance == 6
    assert catalog.remaining(customer_id) == 94  # reserved at once
    confirmed = autumn.balances.finalize(lock_id=f"{customer_id}_confirm", action="confirm")
    assert confirmed.success is True
    assert catalog.remaining(customer_id) == 94

    autumn.check(
        customer_id=customer_id,
        feature_id="premium_request",
        required_balance=5,
        lock={"lock_id": f"{customer_id}_release"},
    )
    assert catalog.remaining(customer_id) == 79
    released = autumn.balances.finalize(lock_id=f"{customer_id}_release", action="release")
    assert released.success is True
    assert catalog.remaining(customer_id) == 94

    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.balances.finalize(lock_id=f"{customer_id}_release", action="confirm")
    assert error_of(raised) == (409, "lock_already_finalized")


def test_confirm_with_a_negative_override_value(catalog: Catalog) -> None:
    """Issue 10 item 8 through the official client's `override_value`: the reservation comes
    back and the absolute value is refunded on top (Autumn RF-2,
    server/tests/integration/balances/lock/basic/check-with-lock-refund.test.ts): 5 tracked
    (85), a lock of 2 (79), confirm -3: the 6 credits come back and 9 more (94)."""
    autumn = catalog.autumn
    customer_id = catalog.customer("negative_confirm")
    autumn.track(customer_id=customer_id, feature_id="premium_request", value=5, async_=False)
    lock_id = f"{customer_id}_lock"
    autumn.check(
        customer_id=customer_id,
        feature_id="premium_request",
        required_balance=2,
        lock={"lock_id": lock_id},
    )
    assert catalog.remaining(customer_id) == 79
    confirmed = autumn.balances.finalize(lock_id=lock_id, action="confirm", override_value=-3)
    assert confirmed.success is True
    assert catalog.remaining(customer_id) == 94


def test_check_with_send_event(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("send_event")
    sent = autumn.check(
        customer_id=customer_id, feature_id="premium_request", required_balance=4, send_event=True
    )
    assert sent.allowed is True
    assert sent.required_balance == 12
    assert sent.balance is not None
    assert sent.balance.remaining == 88  # the answer is after the deduction

    refused = autumn.check(
        customer_id=customer_id, feature_id="premium_request", required_balance=40, send_event=True
    )
    assert refused.allowed is False  # 120 credits do not fit: nothing is deducted
    assert catalog.remaining(customer_id) == 88
    assert [e.value for e in autumn.events.list(customer_id=customer_id).list] == [4]


def test_errors_raise_with_status_and_code(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("errors")
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.check(customer_id=customer_id, feature_id="no_such_feature")
    assert error_of(raised) == (404, "feature_not_found")

    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.track(customer_id=customer_id, feature_id="no_such_feature", value=1)
    assert error_of(raised) == (404, "feature_not_found")

    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.customers.get(customer_id="nobody_here")
    assert error_of(raised) == (404, "customer_not_found")

    with pytest.raises(errors.AutumnDefaultError) as raised:
        client(catalog.tenant.url, "am_sk_test_not_a_real_key").check(
            customer_id=customer_id, feature_id="premium_request"
        )
    assert error_of(raised) == (401, "invalid_secret_key")


def test_idempotency_key_header(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("idempotency")
    headers = {"Idempotency-Key": f"{customer_id}-1"}
    first = autumn.track(
        customer_id=customer_id, feature_id="premium_request", value=1, http_headers=headers
    )
    assert first.balance is not None
    assert first.balance.remaining == 97
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.track(
            customer_id=customer_id, feature_id="premium_request", value=1, http_headers=headers
        )
    assert error_of(raised) == (409, "duplicate_idempotency_key")
    assert catalog.remaining(customer_id) == 97


def test_advance_test_clock_resets_the_monthly_credits(catalog: Catalog) -> None:
    autumn = catalog.autumn
    customer_id = catalog.customer("clock")
    autumn.track(customer_id=customer_id, feature_id="premium_request", value=5)
    assert catalog.remaining(customer_id) == 85
    frozen = int(time.time() * 1000) + 32 * 86_400_000
    answer = autumn.customers.advance_test_clock(customer_id=customer_id, frozen_time=frozen)
    assert (answer.customer_id, answer.frozen_time, answer.status) == (
        customer_id,
        frozen,
        "ready",
    )
    assert catalog.remaining(customer_id) == 100
    with pytest.raises(Exception) as raised:
        autumn.customers.advance_test_clock(customer_id=customer_id, frozen_time=frozen - 1)
    assert error_of(raised) == (400, "invalid_inputs")

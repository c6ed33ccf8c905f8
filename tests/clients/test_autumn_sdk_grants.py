"""Loose grants through the real `autumn-sdk==1.2.0` against a real server: issue 10 (Autumn
conformance, round 2), items 4-7. autumn-sdk exposes `next_reset_at` on `balances.create`
("the first reset boundary ... Subsequent resets advance by one reset interval from this
boundary") and `included_grant` beside `remaining` on `balances.update`; it sends numbers as
floats."""

from __future__ import annotations

import time
from typing import Any

import pytest

from allotment.domain.clock import from_ms, to_ms
from allotment.domain.intervals import add_months
from tests.clients.conftest import Tenant
from tests.clients.test_autumn_sdk import client, create_feature, error_of, errors

DAY_MS = 86_400_000


def row(autumn: Any, customer_id: str, row_id: str) -> Any:
    balance = autumn.customers.get(customer_id=customer_id).balances["loose_msg"]
    (found,) = [r for r in balance.breakdown if r.id == row_id]
    return found


def test_next_reset_at_and_a_per_customer_balance_id(tenant: Tenant) -> None:
    """Issue 10 items 4 and 6; Autumn `create/create-balance-next-reset-at.test.ts` (the first
    boundary verbatim, then that boundary + one interval) and
    `create/create-balance-with-id.test.ts` (409 for the same customer, fine for another)."""
    create_feature(tenant, "loose_msg", "Messages", "metered", consumable=True)
    autumn = client(tenant.url, tenant.key)
    for customer_id in ("a", "b"):
        autumn.customers.get_or_create(customer_id=customer_id)
    first_ms = int(time.time() * 1000) + 10 * DAY_MS
    monthly: dict[str, Any] = {"feature_id": "loose_msg", "reset": {"interval": "month"}}
    autumn.balances.create(
        customer_id="a", included_grant=100, next_reset_at=first_ms, balance_id="promo", **monthly
    )
    promo = row(autumn, "a", "promo")
    assert promo.reset is not None and promo.reset.resets_at == first_ms
    autumn.balances.create(customer_id="b", included_grant=20, balance_id="promo", **monthly)
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.balances.create(customer_id="a", included_grant=1, balance_id="promo", **monthly)
    assert error_of(raised) == (409, "duplicate_balance_id")
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.balances.create(
            customer_id="a", feature_id="loose_msg", included_grant=1, next_reset_at=first_ms
        )
    assert error_of(raised) == (400, "invalid_inputs")

    autumn.track(customer_id="a", feature_id="loose_msg", value=30, async_=False)
    autumn.customers.advance_test_clock(customer_id="a", frozen_time=first_ms)
    promo = row(autumn, "a", "promo")
    assert (promo.remaining, promo.usage) == (100, 0)
    following = to_ms(add_months(from_ms(first_ms), 1))
    assert promo.reset is not None and promo.reset.resets_at == following
    assert row(autumn, "b", "promo").remaining == 20


def test_rollover_refusals_and_combined_update(tenant: Tenant) -> None:
    """Issue 10 items 5 and 7; Autumn `validateCreateBalance.ts` (rollover needs a reset and a
    consumable feature, else 400) and `update/included/update-included-basic.test.ts`
    (included_grant 75 with the remaining set to 50 -> usage 25)."""
    create_feature(tenant, "loose_msg", "Messages", "metered", consumable=True)
    create_feature(tenant, "seats", "Seats", "metered", consumable=False)
    autumn = client(tenant.url, tenant.key)
    autumn.customers.get_or_create(customer_id="c")
    rollover = {"max": 5, "duration": "month", "length": 1}
    for feature_id, reset in [("loose_msg", None), ("seats", {"interval": "month"})]:
        with pytest.raises(errors.AutumnDefaultError) as raised:
            autumn.balances.create(
                customer_id="c",
                feature_id=feature_id,
                included_grant=5,
                reset=reset,
                rollover=rollover,
            )
        assert error_of(raised) == (400, "invalid_inputs")
    autumn.balances.create(
        customer_id="c",
        feature_id="loose_msg",
        included_grant=100,
        reset={"interval": "month"},
        balance_id="monthly",
    )
    autumn.balances.update(
        customer_id="c", feature_id="loose_msg", included_grant=75, remaining=50, interval="month"
    )
    monthly = row(autumn, "c", "monthly")
    assert (monthly.included_grant, monthly.remaining, monthly.usage) == (75, 50, 25)
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.balances.update(customer_id="c", feature_id="loose_msg", remaining=1, usage=1)
    assert error_of(raised) == (400, "invalid_inputs")

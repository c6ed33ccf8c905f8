"""Grants without a plan: balances.create / update / delete, expiry at the exact instant."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from allotment import Allotment, AllotmentError
from allotment.domain.clock import to_ms
from tests.conftest import FakeClock


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(**kwargs)
    return caught.value.code


def setup(engine: Allotment) -> None:
    engine.features.create(feature_id="msgs", name="Messages", type_="metered", consumable=True)
    engine.customers.get_or_create(customer_id="c")


def balance(engine: Allotment) -> tuple[Decimal, Decimal, Decimal] | None:
    found = engine.customers.get(customer_id="c").balances.get("msgs")
    return None if found is None else (found.granted, found.remaining, found.usage)


def test_promotional_credits_expire_at_the_instant(engine: Allotment, clock: FakeClock) -> None:
    setup(engine)
    expires = clock.now + timedelta(days=7)
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=50,
        expires_at=to_ms(expires),
        balance_id="promo",
    )
    engine.track(customer_id="c", feature_id="msgs", value=20)
    clock.set(expires - timedelta(milliseconds=1))
    assert balance(engine) == (50, 30, 20)
    clock.set(expires)
    assert balance(engine) is None
    assert not engine.check(customer_id="c", feature_id="msgs").allowed
    assert engine.verify().ok


def test_update_sets_adds_and_sets_usage(engine: Allotment) -> None:
    setup(engine)
    engine.balances.create(
        customer_id="c", feature_id="msgs", included_grant=100, reset={"interval": "month"}
    )
    engine.balances.update(customer_id="c", feature_id="msgs", remaining=120)
    assert balance(engine) == (100, 120, -20)
    engine.balances.update(customer_id="c", feature_id="msgs", add_to_balance=-30)
    assert balance(engine) == (100, 90, 10)
    engine.balances.update(customer_id="c", feature_id="msgs", usage=25)
    assert balance(engine) == (100, 75, 25)
    engine.balances.update(customer_id="c", feature_id="msgs", included_grant=200)
    assert balance(engine) == (200, 175, 25)
    assert engine.verify().ok


def test_errors_and_delete(engine: Allotment, clock: FakeClock) -> None:
    setup(engine)
    engine.balances.create(customer_id="c", feature_id="msgs", included_grant=5, balance_id="b1")
    assert (
        code_of(
            engine.balances.create,
            customer_id="c",
            feature_id="msgs",
            included_grant=5,
            balance_id="b1",
        )
        == "duplicate_balance_id"
    )
    assert code_of(engine.balances.create, customer_id="c", feature_id="msgs") == "invalid_inputs"
    assert (
        code_of(
            engine.balances.create,
            customer_id="c",
            feature_id="msgs",
            included_grant=5,
            expires_at=to_ms(clock.now),
        )
        == "invalid_inputs"
    )
    assert (
        code_of(engine.balances.update, customer_id="c", feature_id="msgs", remaining=1, usage=1)
        == "invalid_inputs"
    )
    assert (
        code_of(
            engine.balances.update,
            customer_id="c",
            feature_id="msgs",
            balance_id="nope",
            remaining=1,
        )
        == "balance_not_found"
    )
    engine.balances.delete(customer_id="c", feature_id="msgs", balance_id="b1")
    assert balance(engine) is None
    assert engine.verify().ok

"""check: which balance answers, the conversion to credits, flags and send_event."""

from __future__ import annotations

from typing import Any

import pytest

from allotment import Allotment, AllotmentError
from tests.catalogs import credit_system, metered, plan


def catalog(engine: Allotment, items: list[dict[str, Any]], pools: int = 1) -> None:
    metered(engine, "work")
    for n in range(1, pools + 1):
        credit_system(engine, f"pool{n}", {"work": 10 * n}, name=f"Pool {n}")
    plan(engine, "main", *items, auto_enable=True)
    engine.customers.get_or_create(customer_id="c")


def test_own_balance_answers_when_it_suffices(engine: Allotment) -> None:
    catalog(
        engine, [{"feature_id": "work", "included": 5}, {"feature_id": "pool1", "included": 100}]
    )
    r = engine.check(customer_id="c", feature_id="work", required_balance=5)
    assert r.allowed and r.balance is not None
    assert (r.balance.feature_id, r.required_balance) == ("work", 5)


def test_pool_answers_when_own_balance_is_short(engine: Allotment) -> None:
    # DESIGN: 5 direct + 100 credits at 10 each -> a requirement of 6 is answered by the pool
    catalog(
        engine, [{"feature_id": "work", "included": 5}, {"feature_id": "pool1", "included": 100}]
    )
    r = engine.check(customer_id="c", feature_id="work", required_balance=6)
    assert r.allowed and r.balance is not None
    assert (r.balance.feature_id, r.required_balance) == ("pool1", 60)
    r = engine.check(customer_id="c", feature_id="work", required_balance=11)
    assert not r.allowed and r.balance is not None
    assert (r.balance.feature_id, r.required_balance) == ("pool1", 110)


def test_first_pool_that_suffices_else_first_pool(engine: Allotment) -> None:
    catalog(
        engine,
        [{"feature_id": "pool1", "included": 10}, {"feature_id": "pool2", "included": 100}],
        pools=2,
    )
    r = engine.check(customer_id="c", feature_id="work", required_balance=2)
    assert r.allowed and r.balance is not None
    assert (r.balance.feature_id, r.required_balance) == ("pool2", 40)
    r = engine.check(customer_id="c", feature_id="work", required_balance=100)
    assert not r.allowed and r.balance is not None
    assert (r.balance.feature_id, r.required_balance) == ("pool1", 1000)


def test_exactly_enough_is_allowed_and_one_more_is_not(engine: Allotment) -> None:
    catalog(engine, [{"feature_id": "pool1", "included": 30}])
    assert engine.check(customer_id="c", feature_id="work", required_balance=3).allowed
    assert not engine.check(customer_id="c", feature_id="work", required_balance="3.000001").allowed
    engine.track(customer_id="c", feature_id="work", value=3)
    r = engine.check(customer_id="c", feature_id="work")
    assert not r.allowed  # remaining 0, required 1


def test_unlimited_always_allowed(engine: Allotment) -> None:
    catalog(engine, [{"feature_id": "work", "unlimited": True}])
    r = engine.check(customer_id="c", feature_id="work", required_balance=10**9)
    assert r.allowed and r.balance is not None and r.balance.unlimited


def test_boolean_feature_gives_a_flag(engine: Allotment) -> None:
    engine.features.create(feature_id="sso", name="SSO", type_="boolean")
    engine.features.create(feature_id="audit", name="Audit", type_="boolean")
    engine.plans.create(plan_id="ent", name="Ent", auto_enable=True, items=[{"feature_id": "sso"}])
    engine.customers.get_or_create(customer_id="c")
    r = engine.check(customer_id="c", feature_id="sso")
    assert r.allowed and r.balance is None and r.flag is not None
    assert (r.flag.feature_id, r.flag.plan_id) == ("sso", "ent")
    r = engine.check(customer_id="c", feature_id="audit")
    assert not r.allowed and r.flag is None
    assert "sso" in engine.customers.get(customer_id="c").flags
    with pytest.raises(AllotmentError) as caught:
        engine.check(customer_id="c", feature_id="sso", send_event=True)
    assert caught.value.code == "invalid_request"


def test_unknown_ids(engine: Allotment) -> None:
    catalog(engine, [{"feature_id": "pool1", "included": 30}])
    with pytest.raises(AllotmentError) as caught:
        engine.check(customer_id="c", feature_id="nope")
    assert caught.value.code == "feature_not_found"
    with pytest.raises(AllotmentError) as caught:
        engine.check(customer_id="nobody", feature_id="work")
    assert caught.value.code == "customer_not_found"
    with pytest.raises(AllotmentError) as caught:
        engine.check(customer_id="c", feature_id="work", required_balance=float("nan"))
    assert caught.value.code == "invalid_inputs"


def test_send_event_is_all_or_nothing(engine: Allotment) -> None:
    catalog(engine, [{"feature_id": "pool1", "included": 25}])
    r = engine.check(customer_id="c", feature_id="work", required_balance=2, send_event=True)
    assert r.allowed and r.balance is not None and r.balance.remaining == 5
    r = engine.check(customer_id="c", feature_id="work", required_balance=1, send_event=True)
    assert not r.allowed and r.balance is not None and r.balance.remaining == 5
    assert len(engine.events.list(customer_id="c").list) == 1
    assert engine.verify().ok


def test_send_event_without_any_balance_is_refused(engine: Allotment) -> None:
    catalog(engine, [])
    r = engine.check(customer_id="c", feature_id="work", send_event=True)
    assert not r.allowed and r.balance is None
    assert engine.events.list(customer_id="c").list == []

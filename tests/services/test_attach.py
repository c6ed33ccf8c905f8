"""Customers and billing.attach without prices: groups, add-ons, auto_enable."""

from __future__ import annotations

import pytest

from allotment import Allotment, AllotmentError
from tests.catalogs import item, metered, plan


def catalog(engine: Allotment) -> None:
    metered(engine, "msgs", name="Messages")
    plan(engine, "free", item("msgs", 10, reset=None), auto_enable=True)
    plan(engine, "pro", item("msgs", 100, reset=None))
    plan(engine, "pack", item("msgs", 50, reset=None), add_on=True)
    plan(engine, "other", item("msgs", 1, reset=None), name="Other group", group="support")


def test_get_or_create_attaches_auto_enable_plans_once(engine: Allotment) -> None:
    catalog(engine)
    created = engine.customers.get_or_create(
        customer_id="c", name="Ada", email="a@x.io", metadata={"tier": 1}
    )
    assert [s.plan_id for s in created.subscriptions] == ["free"]
    assert created.balances["msgs"].granted == 10
    again = engine.customers.get_or_create(customer_id="c")
    assert again.name == "Ada" and again.metadata == {"tier": 1}
    assert [s.plan_id for s in again.subscriptions] == ["free"]
    for key in ("billing_controls", "purchases", "licenses", "flags", "stripe_id", "env"):
        assert hasattr(again, key)


def test_main_plan_in_the_same_group_replaces_add_ons_stack(engine: Allotment) -> None:
    catalog(engine)
    engine.customers.get_or_create(customer_id="c")
    engine.track(customer_id="c", feature_id="msgs", value=4)
    engine.billing.attach(customer_id="c", plan_id="pro")
    engine.billing.attach(customer_id="c", plan_id="pack")
    engine.billing.attach(customer_id="c", plan_id="pack")
    engine.billing.attach(customer_id="c", plan_id="other")
    customer = engine.customers.get(customer_id="c")
    assert sorted(s.plan_id for s in customer.subscriptions) == ["other", "pack", "pack", "pro"]
    assert customer.balances["msgs"].granted == 100 + 50 + 50 + 1
    assert customer.balances["msgs"].remaining == 201
    with pytest.raises(AllotmentError) as caught:
        engine.billing.attach(customer_id="c", plan_id="pro")
    assert caught.value.code == "product_already_attached"
    assert engine.verify().ok


def test_attach_errors_change_nothing(engine: Allotment) -> None:
    catalog(engine)
    engine.customers.get_or_create(customer_id="c")
    for kwargs, code in [
        ({"customer_id": "c", "plan_id": "missing"}, "plan_not_found"),
        ({"customer_id": "ghost", "plan_id": "pro"}, "customer_not_found"),
    ]:
        with pytest.raises(AllotmentError) as caught:
            engine.billing.attach(**kwargs)
        assert caught.value.code == code
    assert [s.plan_id for s in engine.customers.get(customer_id="c").subscriptions] == ["free"]


def test_customers_update_and_list(engine: Allotment) -> None:
    catalog(engine)
    for n in range(3):
        engine.customers.get_or_create(customer_id=f"c{n}")
    engine.customers.update(customer_id="c1", name="Renamed", metadata={"k": "v"})
    assert engine.customers.get(customer_id="c1").name == "Renamed"
    page, cursor = engine.customers.list(limit=2)
    assert [c.id for c in page] == ["c0", "c1"]
    rest, end = engine.customers.list(limit=2, start_cursor=cursor)
    assert [c.id for c in rest] == ["c2"] and end is None

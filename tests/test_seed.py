"""The seed example and the monetary example of DESIGN.md, on each database."""

from __future__ import annotations

from decimal import Decimal

from allotment import Allotment
from tests.catalogs import seed_catalog


def test_seed_example(engine: Allotment) -> None:
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="user_1")
    r = engine.check(customer_id="user_1", feature_id="premium_request", required_balance=6)
    assert r.allowed is True
    assert r.required_balance == 18
    assert r.balance is not None
    assert r.balance.feature_id == "credits"
    assert r.balance.remaining == 100
    t = engine.track(customer_id="user_1", feature_id="premium_request", value=6)
    assert t.value == 6
    assert t.balance is not None
    assert (t.balance.feature_id, t.balance.remaining, t.balance.usage) == ("credits", 82, 18)
    assert engine.verify().ok


def test_feature_outside_the_credit_system_is_not_allowed(engine: Allotment) -> None:
    seed_catalog(engine)
    engine.features.create(feature_id="video", name="Video", type_="metered", consumable=True)
    engine.customers.get_or_create(customer_id="user_1")
    r = engine.check(customer_id="user_1", feature_id="video")
    assert r.allowed is False
    assert r.balance is None


def test_monetary_credits_stay_exact(engine: Allotment) -> None:
    engine.features.create(
        feature_id="basic_messages", name="Basic", type_="metered", consumable=True
    )
    engine.features.create(
        feature_id="usd_credits",
        name="USD credits",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "basic_messages", "credit_cost": "0.01"}],
    )
    engine.plans.create(
        plan_id="free",
        name="Free",
        auto_enable=True,
        items=[{"feature_id": "usd_credits", "included": 5, "reset": {"interval": "month"}}],
    )
    engine.customers.get_or_create(customer_id="u")
    checked = engine.check(customer_id="u", feature_id="basic_messages", required_balance=1)
    assert checked.required_balance == Decimal("0.01")
    first = engine.track(customer_id="u", feature_id="basic_messages", value=2)
    assert first.balance is not None
    assert first.balance.remaining == Decimal("4.98")
    assert first.balance.usage == Decimal("0.02")
    for _ in range(400):
        last = engine.track(customer_id="u", feature_id="basic_messages", value=1)
    assert last.balance is not None
    assert last.balance.remaining == Decimal("0.98")
    assert str(last.balance.remaining) == "0.98"
    assert engine.verify().ok

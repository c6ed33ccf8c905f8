"""Builders for tests: small functions that make the catalog a test needs."""

from __future__ import annotations

from allotment import Allotment


def seed_catalog(engine: Allotment, *, included: int = 100, auto_enable: bool = True) -> None:
    """The seed example: premium_request costs 3 credits; Pro gives `included` credits a month."""
    engine.features.create(
        feature_id="premium_request", name="Premium request", type_="metered", consumable=True
    )
    engine.features.create(
        feature_id="credits",
        name="Credits",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "premium_request", "credit_cost": 3}],
    )
    engine.plans.create(
        plan_id="pro",
        name="Pro",
        auto_enable=auto_enable,
        items=[{"feature_id": "credits", "included": included, "reset": {"interval": "month"}}],
    )


def pool_of(engine: Allotment, *, credits: int, cost: int = 1, customer_id: str = "c1") -> None:
    """A customer with a pool of `credits` lifetime credits; feature `work` costs `cost`."""
    engine.features.create(feature_id="work", name="Work", type_="metered", consumable=True)
    engine.features.create(
        feature_id="pool",
        name="Pool",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "work", "credit_cost": cost}],
    )
    engine.plans.create(
        plan_id="bundle",
        name="Bundle",
        auto_enable=True,
        items=[{"feature_id": "pool", "included": credits}],
    )
    engine.customers.get_or_create(customer_id=customer_id)

"""The one catalog builder for tests of the embedded engine.

Features and plans are made through `engine.features.create` / `engine.plans.create`, so a
test reads as the catalog it needs:

    metered(engine, "msgs", name="Messages")
    credit_system(engine, "pool", {"work": 3})
    plan(engine, "pro", item("pool", 100), auto_enable=True)

A name defaults to the id made readable ("premium_request" -> "Premium request"). Options
left as None are not sent, so the engine's own defaults apply. HTTP-level tests build their
catalog as JSON (tests/api/conftest.py) and do not use this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from allotment import Allotment

__all__ = [
    "boolean",
    "credit_system",
    "item",
    "metered",
    "plan",
    "pool_of",
    "seed_catalog",
]


def _name(identifier: str) -> str:
    return identifier.replace("_", " ").capitalize()


def metered(
    engine: Allotment, feature_id: str, *, consumable: bool = True, name: str | None = None
) -> None:
    """A metered feature; `consumable=False` for continuous use (seats)."""
    engine.features.create(
        feature_id=feature_id,
        name=_name(feature_id) if name is None else name,
        type_="metered",
        consumable=consumable,
    )


def boolean(engine: Allotment, feature_id: str, *, name: str | None = None) -> None:
    """A boolean (on/off) feature."""
    engine.features.create(
        feature_id=feature_id, name=_name(feature_id) if name is None else name, type_="boolean"
    )


def credit_system(
    engine: Allotment, feature_id: str, costs: Mapping[str, Any], *, name: str | None = None
) -> None:
    """A credit system: `costs` maps each metered feature id to its credit cost."""
    engine.features.create(
        feature_id=feature_id,
        name=_name(feature_id) if name is None else name,
        type_="credit_system",
        credit_schema=[
            {"metered_feature_id": metered_id, "credit_cost": cost}
            for metered_id, cost in costs.items()
        ],
    )


def item(
    feature_id: str, included: Any = None, reset: str | None = "month", **fields: Any
) -> dict[str, Any]:
    """A plan item; `reset=None` for a lifetime grant, `included=None` for a bare (boolean)
    item. Other fields (rollover, unlimited, ...) are passed as given."""
    made: dict[str, Any] = {"feature_id": feature_id}
    if included is not None:
        made["included"] = included
    if reset is not None:
        made["reset"] = {"interval": reset}
    made.update(fields)
    return made


def plan(
    engine: Allotment,
    plan_id: str,
    *items: dict[str, Any],
    name: str | None = None,
    auto_enable: bool | None = None,
    add_on: bool | None = None,
    group: str | None = None,
    price: dict[str, Any] | None = None,
) -> None:
    """A plan of `items` (see `item`)."""
    engine.plans.create(
        plan_id=plan_id,
        name=_name(plan_id) if name is None else name,
        auto_enable=auto_enable,
        add_on=add_on,
        group=group,
        price=price,
        items=list(items),
    )


def seed_catalog(engine: Allotment, *, included: int = 100, auto_enable: bool = True) -> None:
    """The seed example: premium_request costs 3 credits; Pro gives `included` credits a month."""
    metered(engine, "premium_request")
    credit_system(engine, "credits", {"premium_request": 3})
    plan(engine, "pro", item("credits", included), auto_enable=auto_enable)


def pool_of(engine: Allotment, *, credits: int, cost: int = 1, customer_id: str = "c1") -> None:
    """A customer with a pool of `credits` lifetime credits; feature `work` costs `cost`."""
    metered(engine, "work")
    credit_system(engine, "pool", {"work": cost})
    plan(engine, "bundle", item("pool", credits, reset=None), auto_enable=True)
    engine.customers.get_or_create(customer_id=customer_id)

"""Features, credit systems and plans: validation at every boundary, and versions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from allotment import Allotment, AllotmentError
from tests import catalogs


def code_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def metered(engine: Allotment, feature_id: str, consumable: bool = True) -> None:
    catalogs.metered(engine, feature_id, consumable=consumable, name=feature_id)


def test_feature_round_trip(engine: Allotment) -> None:
    metered(engine, "premium_request")
    engine.features.create(
        feature_id="credits",
        name="Credits",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "premium_request", "credit_cost": "0.5"}],
    )
    got = engine.features.get(feature_id="credits")
    assert got.type == "credit_system"
    assert got.consumable is True
    assert got.credit_schema is not None
    assert got.credit_schema[0].credit_cost == Decimal("0.5")
    assert [f.id for f in engine.features.list()] == ["premium_request", "credits"]


@pytest.mark.parametrize(
    ("schema", "code"),
    [
        ([{"metered_feature_id": "flag", "credit_cost": 1}], "invalid_inputs"),
        ([{"metered_feature_id": "seats", "credit_cost": 1}], "invalid_inputs"),
        ([{"metered_feature_id": "pool", "credit_cost": 1}], "invalid_inputs"),
        ([{"metered_feature_id": "nope", "credit_cost": 1}], "feature_not_found"),
        ([{"metered_feature_id": "work", "credit_cost": 0}], "invalid_inputs"),
        ([{"metered_feature_id": "work", "credit_cost": -1}], "invalid_inputs"),
        ([{"metered_feature_id": "work", "credit_cost": "0.0000001"}], "invalid_inputs"),
        ([{"metered_feature_id": "work", "credit_cost": float("nan")}], "invalid_inputs"),
        ([{"metered_feature_id": "work", "credit_cost": float("inf")}], "invalid_inputs"),
        ([], "invalid_inputs"),
        (None, "invalid_inputs"),
    ],
)
def test_credit_schema_validation(engine: Allotment, schema: Any, code: str) -> None:
    metered(engine, "work")
    metered(engine, "seats", consumable=False)
    engine.features.create(feature_id="flag", name="Flag", type_="boolean")
    engine.features.create(
        feature_id="pool",
        name="Pool",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "work", "credit_cost": 1}],
    )
    before = [f.id for f in engine.features.list()]
    assert (
        code_of(
            engine.features.create,
            feature_id="bad",
            name="Bad",
            type_="credit_system",
            credit_schema=schema,
        )
        == code
    )
    assert [f.id for f in engine.features.list()] == before


def test_feature_errors(engine: Allotment) -> None:
    metered(engine, "work")
    assert code_of(metered, engine, "work") == "feature_already_exists"
    assert code_of(engine.features.get, feature_id="missing") == "feature_not_found"
    assert code_of(engine.features.create, feature_id="x", type_="single_use") == "invalid_inputs"
    assert code_of(engine.features.create, feature_id="", type_="boolean") == "invalid_inputs"
    assert code_of(engine.features.create, feature_id="m", type_="metered") == "invalid_inputs"


def test_a_feature_in_a_credit_system_stays_consumable(engine: Allotment) -> None:
    metered(engine, "work")
    engine.features.create(
        feature_id="pool",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "work", "credit_cost": 1}],
    )
    assert code_of(engine.features.update, feature_id="work", consumable=False) == "invalid_inputs"
    assert code_of(engine.features.delete, feature_id="work") == "feature_in_use"
    engine.features.update(feature_id="work", name="Renamed")
    assert engine.features.get(feature_id="work").name == "Renamed"


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"feature_id": "work", "included": -1}, "invalid_inputs"),
        ({"feature_id": "work", "included": "1.0000001"}, "invalid_inputs"),
        ({"feature_id": "work", "included": float("nan")}, "invalid_inputs"),
        ({"feature_id": "work", "included": float("-inf")}, "invalid_inputs"),
        ({"feature_id": "work", "included": 10**13}, "invalid_inputs"),
        ({"feature_id": "work", "reset": {"interval": "fortnight"}}, "invalid_inputs"),
        (
            {"feature_id": "work", "reset": {"interval": "month", "interval_count": 0}},
            "invalid_inputs",
        ),
        ({"feature_id": "seats", "reset": {"interval": "month"}}, "invalid_inputs"),
        ({"feature_id": "flag", "included": 5}, "invalid_inputs"),
        ({"feature_id": "work", "unlimited": True, "included": 5}, "invalid_inputs"),
        ({"feature_id": "ghost", "included": 5}, "feature_not_found"),
    ],
)
def test_plan_item_validation(engine: Allotment, item: dict[str, Any], code: str) -> None:
    metered(engine, "work")
    metered(engine, "seats", consumable=False)
    engine.features.create(feature_id="flag", name="Flag", type_="boolean")
    assert code_of(engine.plans.create, plan_id="p", name="P", items=[item]) == code
    assert engine.plans.list() == []


def test_plan_shape_and_errors(engine: Allotment) -> None:
    metered(engine, "work")
    plan = engine.plans.create(
        plan_id="pro",
        name="Pro",
        group="",
        items=[
            {"feature_id": "work", "included": 10, "reset": {"interval": "month"}},
            {"feature_id": "work", "unlimited": True},
        ],
    )
    assert plan.version == 1
    assert plan.items[0].reset is not None
    assert plan.items[0].reset.interval == "month"
    assert plan.items[1].unlimited is True
    assert plan.items[1].reset is None
    assert code_of(engine.plans.create, plan_id="pro", name="Again") == "plan_already_exists"
    assert code_of(engine.plans.get, plan_id="missing") == "plan_not_found"


def test_editing_a_plan_in_use_makes_a_new_version(engine: Allotment) -> None:
    metered(engine, "work")
    engine.plans.create(plan_id="pro", name="Pro", items=[{"feature_id": "work", "included": 10}])
    # no customer yet: edited in place
    engine.plans.update(plan_id="pro", items=[{"feature_id": "work", "included": 20}])
    assert engine.plans.get(plan_id="pro").version == 1
    engine.customers.get_or_create(customer_id="old")
    engine.billing.attach(customer_id="old", plan_id="pro")
    engine.plans.update(plan_id="pro", items=[{"feature_id": "work", "included": 50}])
    assert engine.plans.get(plan_id="pro").version == 2
    assert engine.plans.get(plan_id="pro", version=1).items[0].included == 20
    engine.customers.get_or_create(customer_id="new")
    engine.billing.attach(customer_id="new", plan_id="pro")
    assert engine.customers.get(customer_id="old").balances["work"].granted == 20
    assert engine.customers.get(customer_id="new").balances["work"].granted == 50
    # a rename alone never versions
    engine.plans.update(plan_id="pro", name="Pro 2")
    assert engine.plans.get(plan_id="pro").version == 2
    assert code_of(engine.plans.delete, plan_id="pro") == "invalid_request"


def test_tenancy_orgs_and_environments_are_separate(make_engine: Any) -> None:
    acme = make_engine(org="acme")
    other = make_engine(org="other")
    acme_live = make_engine(org="acme", env="live")
    metered(acme, "work")
    assert code_of(other.features.get, feature_id="work") == "feature_not_found"
    assert code_of(acme_live.features.get, feature_id="work") == "feature_not_found"
    metered(other, "work")  # the same id is free in another org
    acme.customers.get_or_create(customer_id="c")
    assert code_of(other.customers.get, customer_id="c") == "customer_not_found"

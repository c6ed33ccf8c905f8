"""The catalog: features, credit schemas, resets, plan items and prices, and their validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from allotment.domain.catalog import (
    CreditCost,
    Feature,
    FeatureType,
    PlanItem,
    PlanPrice,
    cost_units_for,
    parse_credit_schema,
    parse_plan_items,
    parse_plan_price,
    parse_reset,
    validate_credit_schema,
    validate_id,
)
from allotment.domain.errors import AllotmentError
from allotment.domain.intervals import Interval
from allotment.domain.rollovers import RolloverRule
from tests.domain.builders import U, boolean, credit_system, metered


def refused(call: Any, *args: Any) -> tuple[str, str]:
    with pytest.raises(AllotmentError) as caught:
        call(*args)
    return caught.value.code, caught.value.message


def test_feature_types_are_the_wire_names() -> None:
    assert [t.value for t in FeatureType] == ["boolean", "metered", "credit_system"]


def test_a_credit_system_is_a_pool_and_prices_its_members() -> None:
    pool = credit_system("credits", premium_request=3 * U, cheap=U // 4)
    assert pool.is_pool
    assert not metered("premium_request").is_pool
    assert pool.cost_of("premium_request") == 3 * U
    assert pool.cost_of("cheap") == 250_000
    assert pool.cost_of("absent") is None
    assert pool.credit_schema[1].credit_cost == Decimal("0.25")
    assert str(CreditCost("x", 3 * U).credit_cost) == "3"


def test_validate_id() -> None:
    assert validate_id("pro", "plan_id") == "pro"
    assert validate_id("x" * 256, "plan_id") == "x" * 256
    assert refused(validate_id, "x" * 257, "plan_id") == (
        "invalid_inputs",
        "plan_id must be at most 256 characters",
    )
    for bad in (None, "", "   ", 5):
        assert refused(validate_id, bad, "plan_id") == (
            "invalid_inputs",
            "plan_id must be a non-empty string",
        )


def test_parse_credit_schema_turns_costs_into_units() -> None:
    schema = parse_credit_schema(
        [
            {"metered_feature_id": "a", "credit_cost": 3},
            {"metered_feature_id": "b", "credit_cost": "0.000001"},
            {"metered_feature_id": "c", "credit_cost": 0.25},
        ]
    )
    assert schema == (CreditCost("a", 3 * U), CreditCost("b", 1), CreditCost("c", 250_000))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "credit_schema must be a non-empty list"),
        ([], "credit_schema must be a non-empty list"),
        ("a", "credit_schema must be a non-empty list"),
        ({"metered_feature_id": "a"}, "credit_schema must be a non-empty list"),
        (["a"], "credit_schema[0] must be an object"),
        ([{"credit_cost": 1}], "credit_schema[0].metered_feature_id must be a non-empty string"),
        ([{"metered_feature_id": "a"}], "credit_schema[0].credit_cost must be a number"),
        (
            [{"metered_feature_id": "a", "credit_cost": -1}],
            "credit_schema[0].credit_cost must not be negative",
        ),
        (
            [{"metered_feature_id": "a", "credit_cost": 0}],
            "credit_schema[0].credit_cost must be greater than 0",
        ),
        (
            [{"metered_feature_id": "a", "credit_cost": "0.0000001"}],
            "credit_schema[0].credit_cost has more than 6 decimal places",
        ),
        (
            [
                {"metered_feature_id": "a", "credit_cost": 1},
                {"metered_feature_id": "a", "credit_cost": 2},
            ],
            "credit_schema[1].metered_feature_id 'a' appears twice",
        ),
    ],
)
def test_parse_credit_schema_refuses(raw: object, message: str) -> None:
    assert refused(parse_credit_schema, raw) == ("invalid_inputs", message)


FEATURES: dict[str, Feature] = {
    "tokens": metered("tokens"),
    "seats": metered("seats", consumable=False),
    "sso": boolean("sso"),
    "credits": credit_system("credits", tokens=U),
}


def test_a_credit_schema_of_consumable_metered_features_is_valid() -> None:
    validate_credit_schema((CreditCost("tokens", U),), FEATURES, "new_pool")


@pytest.mark.parametrize(
    ("member", "code", "message"),
    [
        ("new_pool", "invalid_inputs", "credit_schema: a credit system cannot contain itself"),
        ("ghost", "feature_not_found", "credit_schema: feature 'ghost' not found"),
        (
            "credits",
            "invalid_inputs",
            "credit_schema: 'credits' is a credit system; a credit system cannot contain another",
        ),
        ("seats", "invalid_inputs", "credit_schema: 'seats' must be a consumable metered feature"),
        ("sso", "invalid_inputs", "credit_schema: 'sso' must be a consumable metered feature"),
    ],
)
def test_a_credit_schema_refuses(member: str, code: str, message: str) -> None:
    schema = (CreditCost("tokens", U), CreditCost(member, U))
    assert refused(validate_credit_schema, schema, FEATURES, "new_pool") == (code, message)


def test_parse_reset() -> None:
    assert parse_reset(None) == (None, 1)
    assert parse_reset({"interval": "month"}) == (Interval.MONTH, 1)
    assert parse_reset({"interval": "week", "interval_count": 2}) == (Interval.WEEK, 2)
    assert parse_reset({"interval": "day", "interval_count": None}) == (Interval.DAY, 1)
    assert parse_reset({"interval": "year", "interval_count": 3.0}) == (Interval.YEAR, 3)
    assert parse_reset({"interval": "hour", "interval_count": 1000}) == (Interval.HOUR, 1000)
    # no interval, one_off and lifetime are all lifetime, whatever the count
    assert parse_reset({}) == (None, 1)
    assert parse_reset({"interval": "one_off", "interval_count": 4}) == (None, 1)
    assert parse_reset({"interval": "lifetime"}) == (None, 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("month", "items[0].reset must be an object"),
        (
            {"interval": "month", "interval_count": 0},
            "items[0].reset.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"interval": "month", "interval_count": 1001},
            "items[0].reset.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"interval": "month", "interval_count": 1.5},
            "items[0].reset.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"interval": "month", "interval_count": True},
            "items[0].reset.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"interval": "fortnight"},
            "items[0].reset.interval must be one of one_off, minute, hour, day, week, month, "
            "quarter, semi_annual, year",
        ),
        (
            {"interval": ["month"]},
            "items[0].reset.interval must be one of one_off, minute, hour, day, week, month, "
            "quarter, semi_annual, year",
        ),
    ],
)
def test_parse_reset_refuses(raw: object, message: str) -> None:
    assert refused(parse_reset, raw, "items[0]") == ("invalid_inputs", message)


def test_parse_reset_without_a_path_names_reset() -> None:
    assert refused(parse_reset, 5) == ("invalid_inputs", "reset must be an object")


def test_parse_plan_items() -> None:
    items = parse_plan_items(
        [
            {"feature_id": "tokens", "included": 1.5, "reset": {"interval": "month"}},
            {"feature_id": "seats", "included": 5},
            {"feature_id": "sso"},
            {"feature_id": "credits", "unlimited": True},
        ],
        FEATURES,
    )
    assert items == (
        PlanItem("tokens", 1_500_000, False, Interval.MONTH, 1, {}),
        PlanItem("seats", 5 * U),
        PlanItem("sso"),
        PlanItem("credits", 0, True),
    )
    assert parse_plan_items(None, FEATURES) == ()
    assert parse_plan_items([], FEATURES) == ()


def test_plan_items_keep_price_rollover_and_proration_only() -> None:
    rollover = {"max": 50, "expiry_duration_type": "month", "expiry_duration_length": 2}
    (item,) = parse_plan_items(
        [
            {
                "feature_id": "tokens",
                "included": 100,
                "reset": {"interval": "month", "interval_count": 1},
                "rollover": rollover,
                "price": {"amount": 1},
                "proration": None,
                "note": "dropped",
            }
        ],
        FEATURES,
    )
    assert item.extra == {"rollover": rollover, "price": {"amount": 1}}
    assert item.rollover == RolloverRule(max=50 * U, max_percentage=None, expiry_months=2)


def test_an_item_without_rollover_has_none() -> None:
    assert PlanItem("tokens", 10 * U, reset=Interval.MONTH).rollover is None


@pytest.mark.parametrize(
    ("item", "code", "message"),
    [
        ("tokens", "invalid_inputs", "items[0] must be an object"),
        ({"included": 5}, "invalid_inputs", "items[0].feature_id must be a non-empty string"),
        ({"feature_id": "ghost"}, "feature_not_found", "items[0]: feature 'ghost' not found"),
        (
            {"feature_id": "tokens", "unlimited": "yes"},
            "invalid_inputs",
            "items[0].unlimited must be true or false",
        ),
        (
            {"feature_id": "tokens", "included": "lots"},
            "invalid_inputs",
            "items[0].included must be a number",
        ),
        (
            {"feature_id": "sso", "included": 1},
            "invalid_inputs",
            "items[0]: a boolean feature takes no included amount, reset or unlimited",
        ),
        (
            {"feature_id": "sso", "reset": {"interval": "month"}},
            "invalid_inputs",
            "items[0]: a boolean feature takes no included amount, reset or unlimited",
        ),
        (
            {"feature_id": "sso", "unlimited": True},
            "invalid_inputs",
            "items[0]: a boolean feature takes no included amount, reset or unlimited",
        ),
        (
            {"feature_id": "seats", "included": 5, "reset": {"interval": "month"}},
            "invalid_inputs",
            "items[0].reset: a non-consumable feature never resets",
        ),
        (
            {"feature_id": "tokens", "unlimited": True, "included": 5},
            "invalid_inputs",
            "items[0]: an unlimited item takes no included amount",
        ),
        (
            {
                "feature_id": "tokens",
                "unlimited": True,
                "reset": {"interval": "month"},
                "rollover": {"max": 5},
            },
            "invalid_inputs",
            "items[0].rollover: an unlimited item has nothing to roll over",
        ),
        (
            {"feature_id": "tokens", "included": 5, "rollover": {"max": 5}},
            "invalid_inputs",
            "items[0].rollover: only a balance that resets can roll over",
        ),
        (
            {
                "feature_id": "tokens",
                "included": 5,
                "reset": {"interval": "hour"},
                "rollover": {"max": 5},
            },
            "invalid_inputs",
            "items[0].rollover: rollovers need a reset of a day or longer",
        ),
    ],
)
def test_plan_items_refuse(item: object, code: str, message: str) -> None:
    assert refused(parse_plan_items, [item], FEATURES) == (code, message)


def test_plan_items_name_the_position_of_the_bad_item() -> None:
    items = [{"feature_id": "tokens"}, {"feature_id": "tokens"}, {"feature_id": "tokens", "x": 1}]
    items.append({"feature_id": "tokens", "included": -1})
    assert refused(parse_plan_items, items, FEATURES) == (
        "invalid_inputs",
        "items[3].included must not be negative",
    )


@pytest.mark.parametrize("raw", ["tokens", b"tokens", {"feature_id": "tokens"}, 3])
def test_plan_items_must_be_a_list(raw: object) -> None:
    assert refused(parse_plan_items, raw, FEATURES) == ("invalid_inputs", "items must be a list")


def test_a_credit_system_item_may_reset() -> None:
    (pool_item,) = parse_plan_items(
        [{"feature_id": "credits", "included": 100, "reset": {"interval": "month"}}], FEATURES
    )
    assert (pool_item.included, pool_item.reset) == (100 * U, Interval.MONTH)


def test_parse_plan_price() -> None:
    assert parse_plan_price(None) is None
    assert parse_plan_price({"amount": 20}) == PlanPrice(Decimal(20), "month", 1)
    assert parse_plan_price({"amount": "9.99", "interval": "year", "interval_count": 2}) == (
        PlanPrice(Decimal("9.99"), "year", 2)
    )
    assert parse_plan_price({"amount": 0, "interval": "one_off"}) == PlanPrice(
        Decimal(0), "one_off", 1
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (20, "price must be an object"),
        ({}, "price.amount must be a number"),
        ({"amount": -1}, "price.amount must not be negative"),
        (
            {"amount": 1, "interval": "day"},
            "price.interval must be one of one_off, week, month, quarter, semi_annual, year",
        ),
        (
            {"amount": 1, "interval_count": 0},
            "price.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"amount": 1, "interval_count": 1001},
            "price.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"amount": 1, "interval_count": True},
            "price.interval_count must be an integer from 1 to 1000",
        ),
        (
            {"amount": 1, "interval_count": "2"},
            "price.interval_count must be an integer from 1 to 1000",
        ),
    ],
)
def test_parse_plan_price_refuses(raw: object, message: str) -> None:
    assert refused(parse_plan_price, raw) == ("invalid_inputs", message)


def test_cost_units_for_is_exact_or_nothing() -> None:
    """3 units at 3 credits = 9 credits; 0.000001 unit at 0.01 credits = 0.00000001 credits,
    which the fixed-point scale cannot hold."""
    assert cost_units_for(3 * U, 3 * U) == 9 * U
    assert cost_units_for(1_500_000, 250_000) == 375_000  # 1.5 x 0.25 = 0.375
    assert cost_units_for(1, U // 100) is None
    assert cost_units_for(100, U // 100) == 1  # 0.0001 x 0.01 = 0.000001
    assert cost_units_for(0, 7) == 0

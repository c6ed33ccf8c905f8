"""The one error type: stable codes, and messages that name the offending field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from allotment.domain.amounts import parse_amount
from allotment.domain.catalog import (
    parse_credit_schema,
    parse_plan_items,
    parse_plan_price,
    parse_reset,
    validate_credit_schema,
    validate_id,
)
from allotment.domain.errors import AllotmentError, ErrorCode, OverdrawRefused, invalid
from allotment.domain.intervals import Interval
from allotment.domain.rollovers import parse_rollover
from tests.domain.builders import credit_system, metered

# Clients match on these strings: changing one is a breaking change of the API.
STABLE_CODES = {
    "INVALID_INPUTS": "invalid_inputs",
    "INVALID_REQUEST": "invalid_request",
    "FEATURE_NOT_FOUND": "feature_not_found",
    "CUSTOMER_NOT_FOUND": "customer_not_found",
    "PLAN_NOT_FOUND": "plan_not_found",
    "INSUFFICIENT_BALANCE": "insufficient_balance",
    "DUPLICATE_IDEMPOTENCY_KEY": "duplicate_idempotency_key",
    "FEATURE_ALREADY_EXISTS": "feature_already_exists",
    "PLAN_ALREADY_EXISTS": "plan_already_exists",
    "PLAN_ALREADY_ATTACHED": "product_already_attached",  # Autumn's name for it
    "FEATURE_IN_USE": "feature_in_use",
    "LOCK_ALREADY_EXISTS": "lock_already_exists",
    "LOCK_NOT_FOUND": "lock_not_found",
    "LOCK_ALREADY_FINALIZED": "lock_already_finalized",
    "ENTITY_NOT_FOUND": "entity_not_found",
    "BALANCE_NOT_FOUND": "balance_not_found",
    "DUPLICATE_BALANCE_ID": "duplicate_balance_id",
    "ENTITY_ALREADY_EXISTS": "entity_already_exists",
    "EVENT_NOT_FOUND": "event_not_found",
    "EVENT_ALREADY_REVERSED": "event_already_reversed",
    # answered by the HTTP server only
    "NO_SECRET_KEY": "no_secret_key",
    "INVALID_SECRET_KEY": "invalid_secret_key",
    "INVALID_API_KEY": "invalid_api_key",
    "NOT_FOUND": "not_found",
    "METHOD_NOT_ALLOWED": "method_not_allowed",
    "PAYLOAD_TOO_LARGE": "payload_too_large",
    "RATE_LIMIT_EXCEEDED": "rate_limit_exceeded",
    "SERVICE_UNAVAILABLE": "service_unavailable",
    "INTERNAL_ERROR": "internal_error",
}


def test_error_codes_are_exactly_the_stable_list() -> None:
    declared = {code.name: code.value for code in ErrorCode}
    assert declared == STABLE_CODES


def test_error_codes_are_distinct() -> None:
    assert len(set(STABLE_CODES.values())) == len(STABLE_CODES)


def test_every_code_has_one_http_status() -> None:
    """The one mapping to HTTP lives in api/errors.py and covers every code."""
    from allotment.api.errors import status_of

    statuses = {code: status_of(code) for code in ErrorCode}
    assert all(400 <= status < 600 for status in statuses.values())
    assert statuses[ErrorCode.CUSTOMER_NOT_FOUND] == 404
    assert statuses[ErrorCode.DUPLICATE_IDEMPOTENCY_KEY] == 409
    assert statuses[ErrorCode.SERVICE_UNAVAILABLE] == 503


def test_error_carries_code_and_message() -> None:
    error = AllotmentError(ErrorCode.CUSTOMER_NOT_FOUND, "customer 'c1' not found")
    assert isinstance(error, Exception)
    assert error.code == "customer_not_found"
    assert error.message == "customer 'c1' not found"
    assert str(error) == "customer 'c1' not found"
    assert error.args == ("customer 'c1' not found",)
    assert repr(error) == "AllotmentError('customer_not_found', \"customer 'c1' not found\")"


def test_invalid_builds_an_invalid_inputs_error() -> None:
    error = invalid("value must be a number")
    assert type(error) is AllotmentError
    assert (error.code, error.message) == ("invalid_inputs", "value must be a number")


def test_error_can_be_raised_and_caught_by_code() -> None:
    with pytest.raises(AllotmentError) as caught:
        raise invalid("x must be a number")
    assert caught.value.code == ErrorCode.INVALID_INPUTS


def test_an_overdraw_refused_by_the_store_is_an_insufficient_balance() -> None:
    one = OverdrawRefused([7])
    assert isinstance(one, AllotmentError)
    assert one.code == "insufficient_balance"
    assert one.grant_ids == [7]
    assert one.message == (
        "refused: the change would take grant 7 below its floor; nothing was applied"
    )
    several = OverdrawRefused([3, 4])
    assert several.message == (
        "refused: the change would take one of grants 3, 4 below its floor; nothing was applied"
    )
    assert str(several) == several.message


_FEATURES = {"tokens": metered("tokens"), "seats": metered("seats", consumable=False)}

# (call, code, exact message): every input error of the domain names the field it refuses,
# with the path a client sent (items[0].reset.interval_count, credit_schema[1].credit_cost...)
MESSAGES: list[tuple[Callable[[], object], str, str]] = [
    (lambda: parse_amount("x", "value"), "invalid_inputs", "value must be a number"),
    (
        lambda: parse_amount(-1, "included"),
        "invalid_inputs",
        "included must not be negative",
    ),
    (
        lambda: parse_amount("1.0000001", "credit_cost"),
        "invalid_inputs",
        "credit_cost has more than 6 decimal places",
    ),
    (
        lambda: validate_id("", "feature_id"),
        "invalid_inputs",
        "feature_id must be a non-empty string",
    ),
    (
        lambda: parse_reset({"interval": "month", "interval_count": 0}, "items[2]"),
        "invalid_inputs",
        "items[2].reset.interval_count must be an integer from 1 to 1000",
    ),
    (
        lambda: parse_credit_schema([{"metered_feature_id": "tokens", "credit_cost": 0}]),
        "invalid_inputs",
        "credit_schema[0].credit_cost must be greater than 0",
    ),
    (
        lambda: validate_credit_schema(credit_system("pool", ghost=1).credit_schema, {}, "pool"),
        "feature_not_found",
        "credit_schema: feature 'ghost' not found",
    ),
    (
        lambda: parse_plan_items([{"feature_id": "ghost"}], _FEATURES),
        "feature_not_found",
        "items[0]: feature 'ghost' not found",
    ),
    (
        lambda: parse_plan_items(
            [{"feature_id": "tokens"}, {"feature_id": "tokens", "included": -5}], _FEATURES
        ),
        "invalid_inputs",
        "items[1].included must not be negative",
    ),
    (
        lambda: parse_plan_price({"amount": 10, "interval_count": 0}),
        "invalid_inputs",
        "price.interval_count must be an integer from 1 to 1000",
    ),
    (
        lambda: parse_rollover({"max_percentage": 101}, Interval.MONTH, "items[3]"),
        "invalid_inputs",
        "items[3].rollover.max_percentage must be a number from 0 to 100",
    ),
    (
        lambda: parse_rollover({"max": Decimal("-2")}, Interval.MONTH),
        "invalid_inputs",
        "rollover.max must not be negative",
    ),
]


@pytest.mark.parametrize(("call", "code", "message"), MESSAGES)
def test_domain_errors_name_the_field(call: Callable[[], object], code: str, message: str) -> None:
    with pytest.raises(AllotmentError) as caught:
        call()
    assert (caught.value.code, caught.value.message) == (code, message)

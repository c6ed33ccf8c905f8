from __future__ import annotations

from decimal import Decimal

import pytest

from allotment import AllotmentError
from allotment.domain.amounts import from_units, parse_amount, to_units


@pytest.mark.parametrize(
    "raw", [float("nan"), float("inf"), "NaN", "-Infinity", "abc", None, True, [1]]
)
def test_non_numbers_are_refused(raw: object) -> None:
    with pytest.raises(AllotmentError) as caught:
        parse_amount(raw, "value")
    assert caught.value.code == "invalid_inputs"
    assert "value" in caught.value.message


def test_six_decimal_places_pass_and_seven_are_refused() -> None:
    assert to_units(parse_amount("0.000001", "value")) == 1
    with pytest.raises(AllotmentError, match="more than 6 decimal places"):
        parse_amount("0.0000001", "value")


def test_floats_are_read_from_their_shortest_text() -> None:
    assert parse_amount(0.1, "value") == Decimal("0.1")
    assert parse_amount(6.0, "value") == 6


def test_negative_only_when_allowed() -> None:
    with pytest.raises(AllotmentError, match="must not be negative"):
        parse_amount(-1, "included")
    assert parse_amount(-1, "value", allow_negative=True) == -1


def test_limits() -> None:
    assert parse_amount(10**12, "value") == 10**12
    with pytest.raises(AllotmentError, match="at most"):
        parse_amount(10**12 + 1, "value")


def test_round_trip_is_exact_and_normalised() -> None:
    assert str(from_units(82_000_000)) == "82"
    assert str(from_units(4_980_000)) == "4.98"
    assert str(from_units(-1)) == "-0.000001"
    assert str(from_units(0)) == "0"

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allotment.domain.amounts import (
    DECIMAL_PLACES,
    MAX_AMOUNT,
    MAX_UNITS,
    SCALE,
    from_units,
    parse_amount,
    to_units,
)
from allotment.domain.errors import AllotmentError


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


def test_scale_and_limits_are_fixed() -> None:
    assert (DECIMAL_PLACES, SCALE) == (6, 1_000_000)
    assert MAX_AMOUNT == 10**12
    assert MAX_UNITS == 10**18  # fits a signed 64-bit column (max about 9.2 * 10**18)
    assert MAX_UNITS < 2**63


def test_negative_limits_name_both_bounds() -> None:
    assert parse_amount(-(10**12), "value", allow_negative=True) == -(10**12)
    with pytest.raises(AllotmentError) as caught:
        parse_amount("-1000000000000.000001", "value", allow_negative=True)
    assert caught.value.message == "value must be between -1000000000000 and 1000000000000"
    with pytest.raises(AllotmentError) as caught:
        parse_amount(Decimal("-Infinity"), "value", allow_negative=True)
    assert caught.value.message == "value must be a finite number"


def test_refusals_name_the_field_exactly() -> None:
    for raw, message in [
        (None, "included must be a number"),
        ("12abc", "included must be a number"),
        ("sNaN", "included must be a finite number"),
        (-0.5, "included must not be negative"),
        (10**12 + 1, "included must be at most 1000000000000"),
        (1e-07, "included has more than 6 decimal places"),
    ]:
        with pytest.raises(AllotmentError) as caught:
            parse_amount(raw, "included")
        assert (caught.value.code, caught.value.message) == ("invalid_inputs", message)


def test_trailing_zeros_past_the_scale_are_not_extra_places() -> None:
    # 1.0000000 has seven written places but is exactly 1: nothing would be rounded
    assert to_units(parse_amount("1.0000000", "value")) == 1_000_000
    assert to_units(parse_amount("2.50000000000", "value")) == 2_500_000


def test_exponents_ints_decimals_and_negative_zero() -> None:
    assert to_units(parse_amount("1E+3", "value")) == 1_000_000_000
    assert to_units(parse_amount("15e-6", "value")) == 15  # 0.000015
    with pytest.raises(AllotmentError, match="more than 6 decimal places"):
        parse_amount("15e-7", "value")  # 0.0000015: seven places
    assert to_units(parse_amount(7, "value")) == 7_000_000
    assert to_units(parse_amount(Decimal("0.25"), "value")) == 250_000
    assert to_units(parse_amount("-0", "value")) == 0  # -0 is not negative
    assert to_units(parse_amount(1e-06, "value")) == 1  # repr "1e-06"


def test_to_units_refuses_what_was_not_validated() -> None:
    with pytest.raises(AllotmentError) as caught:
        to_units(Decimal("0.0000005"))
    assert caught.value.code == "invalid_inputs"
    assert caught.value.message == "5E-7 has more than 6 decimal places"


def test_from_units_never_writes_an_exponent() -> None:
    assert str(from_units(100_000_000)) == "100"  # normalize() alone would say 1E+2
    assert str(from_units(MAX_UNITS)) == "1000000000000"
    assert str(from_units(1)) == "0.000001"
    assert str(from_units(-1_500_000)) == "-1.5"


units = st.integers(-MAX_UNITS, MAX_UNITS)


@given(units)
def test_units_round_trip_through_text(amount_units: int) -> None:
    text = str(from_units(amount_units))
    assert "E" not in text
    assert to_units(parse_amount(text, "value", allow_negative=True)) == amount_units


@given(units)
def test_units_round_trip_through_decimal(amount_units: int) -> None:
    assert to_units(from_units(amount_units)) == amount_units


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=6, allow_nan=False))
def test_six_place_decimals_are_read_exactly(amount: Decimal) -> None:
    assert from_units(to_units(parse_amount(amount, "value"))) == amount


@given(st.integers(0, MAX_UNITS).filter(lambda n: n % 10), st.integers(7, 12))
def test_any_seventh_place_is_refused(digits: int, places: int) -> None:
    """digits x 10**-7 (digits not a multiple of 10), written with 7 to 12 places (trailing
    zeros), always has a nonzero 7th place."""
    amount = Decimal(digits * 10 ** (places - 7)).scaleb(-places)
    with pytest.raises(AllotmentError, match="more than 6 decimal places"):
        parse_amount(amount, "value")

"""Exact amounts.

Every balance, grant, cost and usage is stored as a fixed-point integer of `SCALE` (10**-6):
`1.5` credits is the integer `1_500_000`. A signed 64-bit column then holds balances up to
about 9.2 * 10**12 with six decimal places. `Decimal` is used at the edges only; no float ever
touches an amount. Input with more decimal places than the scale is refused, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from allotment.domain.errors import invalid

__all__ = [
    "DECIMAL_PLACES",
    "MAX_AMOUNT",
    "MAX_UNITS",
    "SCALE",
    "from_units",
    "parse_amount",
    "to_units",
]

DECIMAL_PLACES = 6
SCALE = 10**DECIMAL_PLACES
MAX_AMOUNT = 10**12
MAX_UNITS = MAX_AMOUNT * SCALE  # the largest balance a grant may hold (fits a signed BIGINT)


def parse_amount(value: object, field: str, *, allow_negative: bool = False) -> Decimal:
    """Turn user input into an exact Decimal, or raise `invalid_inputs` naming `field`."""
    if isinstance(value, bool) or value is None:
        raise invalid(f"{field} must be a number")
    if isinstance(value, float):
        # repr() of a float is the shortest text that round-trips: 0.1 -> "0.1", never 0.1000...0555
        value = repr(value)
    try:
        number = Decimal(value) if isinstance(value, (int, str, Decimal)) else None
    except InvalidOperation:
        number = None
    if number is None:
        raise invalid(f"{field} must be a number")
    if not number.is_finite():
        raise invalid(f"{field} must be a finite number")
    if number.copy_abs() > MAX_AMOUNT:
        if allow_negative:
            raise invalid(f"{field} must be between -{MAX_AMOUNT} and {MAX_AMOUNT}")
        raise invalid(f"{field} must be at most {MAX_AMOUNT}")
    if not allow_negative and number < 0:
        raise invalid(f"{field} must not be negative")
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent < -DECIMAL_PLACES
        and number != number.quantize(Decimal(1).scaleb(-DECIMAL_PLACES), rounding="ROUND_DOWN")
    ):
        raise invalid(f"{field} has more than {DECIMAL_PLACES} decimal places")
    return number


def to_units(amount: Decimal) -> int:
    """Exact Decimal -> fixed-point integer. The amount must already be validated."""
    scaled = amount.scaleb(DECIMAL_PLACES)
    if scaled != scaled.to_integral_value():
        raise invalid(f"{amount} has more than {DECIMAL_PLACES} decimal places")
    return int(scaled)


def from_units(units: int) -> Decimal:
    """Fixed-point integer -> Decimal, normalised so 82000000 reads as 82 and 4980000 as 4.98."""
    number = Decimal(units).scaleb(-DECIMAL_PLACES)
    normal = number.normalize()
    # normalize() writes 100 as 1E+2; quantize back to an integer exponent for whole numbers
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal

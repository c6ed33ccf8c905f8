"""Exact JSON text: numbers are read as `Decimal` from their text (never through a float) and
`Decimal`s are written as JSON numbers from their exact text. Used for the wire format
(`wire.codec`) and for the free-form objects the database stores as text (metadata, properties,
display, plan prices and item options), so `{"x": 1.5}` comes back as exactly 1.5."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import simplejson  # type: ignore[import-untyped]

__all__ = ["dumps", "loads"]

Fallback = Callable[[Any], Any]


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def _decimal_text(number: Decimal) -> str:
    """A Decimal's exact value as canonical JSON number text: 6.0 -> 6, 1E+1 -> 10, 4.980 ->
    4.98 (integers written as integers)."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def dumps(value: Any, fallback: Fallback | None = None) -> str:
    """`value` as compact JSON; `Decimal`s as JSON numbers from their exact text
    (`_decimal_text`); `fallback` turns other objects into writable ones (else their string).
    simplejson's C encoder walks the value: the pure-Python writer it replaces called
    `json.dumps` once per string."""

    def other(item: Any) -> Any:
        if isinstance(item, Decimal):
            return simplejson.RawJSON(_decimal_text(item))
        return fallback(item) if fallback is not None else str(item)

    text: str = simplejson.dumps(
        value, use_decimal=False, ensure_ascii=False, separators=(",", ":"), default=other
    )
    return text

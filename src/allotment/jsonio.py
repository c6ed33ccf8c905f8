"""Exact JSON text: numbers are read as `Decimal` from their text (never through a float) and
`Decimal`s are written as JSON numbers from their exact text. Used for the wire format
(`wire.codec`) and for the free-form objects the database stores as text (metadata, properties,
display, plan prices and item options), so `{"x": 1.5}` comes back as exactly 1.5."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads", "write"]

Fallback = Callable[[Any], Any]


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def write(value: Any, out: Callable[[str], None], fallback: Fallback | None = None) -> None:
    """Write `value` as JSON; `fallback` turns other objects into writable ones (else their
    string)."""
    if value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, Decimal):
        out(_decimal_text(value))
    elif isinstance(value, int):
        out(str(value))
    elif isinstance(value, float):
        out(json.dumps(value))
    elif isinstance(value, str):
        out(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out("{")
        for position, (key, item) in enumerate(value.items()):
            if position:
                out(",")
            out(json.dumps(str(key), ensure_ascii=False))
            out(":")
            write(item, out, fallback)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for position, item in enumerate(value):
            if position:
                out(",")
            write(item, out, fallback)
        out("]")
    elif fallback is not None:
        write(fallback(value), out, fallback)
    else:
        out(json.dumps(str(value)))


def dumps(value: Any, fallback: Fallback | None = None) -> str:
    parts: list[str] = []
    write(value, parts.append, fallback)
    return "".join(parts)

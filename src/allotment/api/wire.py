"""The JSON wire format. Incoming numbers are parsed straight to `Decimal` from their text
(never through a float); NaN and Infinity are refused. Outgoing amounts are JSON numbers
written from the Decimal's exact text (pydantic would write them as strings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from allotment.domain.errors import invalid

__all__ = ["dumps", "loads", "to_wire"]


def _refuse_constant(name: str) -> Any:
    raise invalid(f"{name} is not a valid JSON number")


def loads(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(f"the request body is not valid JSON: {error}") from None


def to_wire(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python")
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def _decimal_text(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def _write(value: Any, out: Callable[[str], None]) -> None:
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
            _write(item, out)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for position, item in enumerate(value):
            if position:
                out(",")
            _write(item, out)
        out("]")
    elif isinstance(value, BaseModel):
        _write(value.model_dump(mode="python"), out)
    else:
        out(json.dumps(str(value)))


def dumps(value: Any) -> bytes:
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts).encode()

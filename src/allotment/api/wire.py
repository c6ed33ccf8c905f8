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

__all__ = ["check_values", "dumps", "loads"]


def loads(body: bytes) -> Any:
    """Parse a request body. NaN and Infinity parse as floats only so that `check_values` can
    refuse them with the name of their field."""
    if not body.strip():
        return {}
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=float)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(f"the request body is not valid JSON: {error}") from None
    except RecursionError:
        raise invalid("the request body is nested too deeply") from None


def check_values(value: Any, path: str = "body") -> None:
    """Refuse what no field may hold: non-finite numbers, NUL characters and lone surrogates
    (PostgreSQL and UTF-8 cannot store them). The message names the offending field."""
    if isinstance(value, float):
        raise invalid(f"{path} must be a finite number")
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid(f"{path} must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid(f"{path} is not valid UTF-8 text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_values(key, path)
            check_values(item, key if path == "body" else f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            check_values(item, f"{path}[{position}]")


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
        omitted: frozenset[str] = getattr(value, "omit_when_none", frozenset())
        fields = {
            name: getattr(value, name)
            for name in type(value).model_fields
            if name not in omitted or getattr(value, name) is not None
        }
        _write(fields, out)
    else:
        out(json.dumps(str(value)))


def dumps(value: Any) -> bytes:
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts).encode()

"""The JSON wire format. Incoming numbers are parsed straight to `Decimal` from their text
(never through a float); NaN and Infinity are refused. Outgoing amounts are JSON numbers
written from the Decimal's exact text (pydantic would write them as strings)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from allotment import jsonio
from allotment.domain.errors import invalid

__all__ = ["check_values", "dumps", "loads"]

_LARGEST = Decimal("1.7976931348623157e308")  # the largest double


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
    if isinstance(value, float) or (isinstance(value, Decimal) and value.copy_abs() > _LARGEST):
        # NaN, Infinity, and numbers no JavaScript client could read (1e309 is Infinity there)
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


def _model_fields(value: Any) -> Any:
    """A result model as the dict of its JSON keys (optional keys left out when None)."""
    if not isinstance(value, BaseModel):
        return str(value)
    omitted: frozenset[str] = getattr(value, "omit_when_none", frozenset())
    return {
        name: getattr(value, name)
        for name in type(value).model_fields
        if name not in omitted or getattr(value, name) is not None
    }


def dumps(value: Any) -> bytes:
    return jsonio.dumps(value, _model_fields).encode()

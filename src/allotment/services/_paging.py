"""Cursors and time bounds shared by the list use cases."""

from __future__ import annotations

from collections.abc import Mapping

from allotment.domain.errors import invalid

_MAX_CURSOR = 2**62
MAX_MS = 10**14  # Unix milliseconds up to the year 5138


def cursor(raw: object) -> int | None:
    """A cursor this server returned (a row id as text), or None for the first page."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise invalid("start_cursor is not a cursor this server returned")
    value = int(raw)
    if value >= _MAX_CURSOR:
        raise invalid("start_cursor is not a cursor this server returned")
    return value


def limit(raw: object, default: int = 50) -> int:
    size = default if raw is None else raw
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 1000:
        raise invalid("limit must be an integer from 1 to 1000")
    return size


def range_bound(custom_range: Mapping[str, object], key: str) -> int | None:
    value = custom_range.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_MS:
        raise invalid(f"custom_range.{key} must be Unix milliseconds")
    return value

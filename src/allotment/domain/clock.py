"""Time. Always timezone-aware UTC, always from an injectable clock, held to the millisecond
(the wire and the database both count Unix milliseconds)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["LATEST_MS", "Clock", "from_ms", "system_clock", "to_ms", "truncate_to_ms"]

Clock = Callable[[], datetime]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
LATEST_MS = 32503680000000  # 3000-01-01T00:00:00Z: the latest instant an input may name


def system_clock() -> datetime:
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: allotment only handles timezone-aware UTC")
    return (moment - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * _MS


def truncate_to_ms(moment: datetime) -> datetime:
    return from_ms(to_ms(moment))

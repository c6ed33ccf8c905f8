"""Time: aware UTC only, counted in Unix milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allotment.domain.clock import (
    EPOCH,
    LATEST_MS,
    from_ms,
    system_clock,
    to_ms,
    truncate_to_ms,
)
from tests.domain.builders import utc


def test_epoch_is_zero() -> None:
    assert utc(1970, 1, 1) == EPOCH
    assert to_ms(EPOCH) == 0
    assert from_ms(0) == EPOCH


def test_known_instants() -> None:
    # 2026-01-01: 20 454 days after the epoch x 86 400 000 ms
    assert to_ms(utc(2026, 1, 1)) == 1_767_225_600_000
    assert from_ms(1_767_225_600_123) == datetime(2026, 1, 1, 0, 0, 0, 123_000, tzinfo=UTC)


def test_latest_ms_is_the_year_3000() -> None:
    assert LATEST_MS == 32_503_680_000_000
    assert from_ms(LATEST_MS) == utc(3000, 1, 1)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        to_ms(datetime(2026, 1, 1))


def test_other_offsets_count_the_same_instant() -> None:
    paris_winter = timezone(timedelta(hours=1))
    assert to_ms(datetime(2026, 1, 1, 1, tzinfo=paris_winter)) == to_ms(utc(2026, 1, 1))
    assert from_ms(to_ms(datetime(2026, 1, 1, 1, tzinfo=paris_winter))).tzinfo is UTC


def test_microseconds_are_dropped_towards_the_past() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 1_999, tzinfo=UTC)  # 1.999 ms past noon
    assert to_ms(moment) == to_ms(utc(2026, 3, 1, 12)) + 1
    assert truncate_to_ms(moment) == datetime(2026, 3, 1, 12, 0, 0, 1_000, tzinfo=UTC)
    # before the epoch the floor is still towards the past: -0.5 ms -> -1 ms
    before = EPOCH - timedelta(microseconds=500)
    assert to_ms(before) == -1
    assert truncate_to_ms(before) == datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)


def test_system_clock_is_aware_utc_now() -> None:
    before = datetime.now(UTC)
    now = system_clock()
    after = datetime.now(UTC)
    assert now.tzinfo is UTC
    assert before <= now <= after


@given(st.integers(0, LATEST_MS))
def test_milliseconds_round_trip(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
    assert from_ms(ms).tzinfo is UTC


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 12, 31)))
def test_truncation_keeps_the_millisecond_and_is_idempotent(naive: datetime) -> None:
    moment = naive.replace(tzinfo=UTC)
    truncated = truncate_to_ms(moment)
    assert truncated <= moment < truncated + timedelta(milliseconds=1)
    assert truncated.microsecond % 1000 == 0
    assert truncate_to_ms(truncated) == truncated

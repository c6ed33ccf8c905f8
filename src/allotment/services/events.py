"""Use case: list usage events, newest first, with cursor pagination."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from allotment.domain.amounts import from_units
from allotment.domain.clock import from_ms, to_ms
from allotment.domain.errors import invalid
from allotment.domain.usage_outcomes import EventRow, EventsPage
from allotment.services import _paging as paging
from allotment.storage.store import Store


def list_page(
    store: Store,
    *,
    customer_id: str | None = None,
    feature_id: str | list[str] | None = None,
    custom_range: Mapping[str, Any] | None = None,
    start_cursor: str | None = None,
    limit: int | None = 50,
) -> EventsPage:
    size = paging.limit(limit)
    if customer_id is not None and not isinstance(customer_id, str):
        raise invalid("customer_id must be a string")
    features: list[str] | None
    if feature_id is None:
        features = None
    elif isinstance(feature_id, str):
        features = [feature_id]
    elif isinstance(feature_id, list) and all(isinstance(f, str) for f in feature_id):
        features = list(feature_id)
    else:
        raise invalid("feature_id must be a string or a list of strings")
    start = end = None
    if custom_range is not None:
        if not isinstance(custom_range, Mapping):
            raise invalid("custom_range must be an object")
        start, end = (
            paging.range_bound(custom_range, "start"),
            paging.range_bound(custom_range, "end"),
        )
    before = paging.cursor(start_cursor)
    records = store.events.page(
        customer_id=customer_id,
        feature_ids=features,
        start=from_ms(start) if start is not None else None,
        end=from_ms(end) if end is not None else None,
        before_id=before,
        limit=size + 1,
    )
    more = len(records) > size
    records = records[:size]
    return EventsPage(
        rows=tuple(
            EventRow(
                id=r.id,
                timestamp=r.timestamp,
                feature_id=r.feature_id if r.feature_id is not None else r.event_name,
                event_name=r.event_name,
                customer_id=r.customer_id,
                value=from_units(r.value),
                properties=r.properties,
                idempotency_key=r.idempotency_key,
            )
            for r in records
        ),
        next_cursor=str(records[-1].id) if more and records else None,
    )


_RANGES = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "last_cycle": timedelta(days=30),
    "1bc": timedelta(days=30),
    "3bc": timedelta(days=90),
}


_MAX_BINS = 5000


def _bins_between(start: datetime, end: datetime, bin_size: str) -> int:
    days = (end - start).total_seconds() / 86400
    per_day = {"hour": 24.0, "day": 1.0, "week": 1 / 7, "month": 1 / 28}[bin_size]
    return int(days * per_day) + 1


def _bin_start(moment: datetime, bin_size: str) -> datetime:
    if bin_size == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bin_size == "week":
        return day - timedelta(days=day.weekday())
    if bin_size == "month":
        return day.replace(day=1)
    return day


def _next_bin(start: datetime, bin_size: str) -> datetime:
    if bin_size == "hour":
        return start + timedelta(hours=1)
    if bin_size == "week":
        return start + timedelta(weeks=1)
    if bin_size == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def _feature_list(feature_id: object) -> list[str]:
    if isinstance(feature_id, str):
        return [feature_id]
    if isinstance(feature_id, list) and feature_id and all(isinstance(f, str) for f in feature_id):
        return [str(f) for f in feature_id]
    raise invalid("feature_id must be a string or a non-empty list of strings")


def _window(
    now: datetime, range_: object, bin_size: object, custom_range: object
) -> tuple[datetime, datetime, str]:
    """The [start, end) window and the bin size; a preset range ends at now, inclusive."""
    if range_ is not None and range_ not in _RANGES:
        raise invalid(f"range must be one of {', '.join(_RANGES)}")
    size = str(bin_size or ("hour" if range_ == "24h" else "day"))
    if size not in ("hour", "day", "week", "month"):
        raise invalid("bin_size must be one of hour, day, week, month")
    start, end = now - _RANGES[str(range_ or "30d")], now + timedelta(milliseconds=1)
    if isinstance(custom_range, Mapping):
        low = paging.range_bound(custom_range, "start")
        high = paging.range_bound(custom_range, "end")
        start = from_ms(low) if low is not None else start
        end = from_ms(high) if high is not None else end
    if start >= end:
        raise invalid("custom_range.start must be before custom_range.end")
    if _bins_between(start, end, size) > _MAX_BINS:
        raise invalid(
            f"the range holds more than {_MAX_BINS} bins of {size}; use a larger bin_size"
        )
    return start, end, size


def aggregate(
    store: Store,
    now: datetime,
    *,
    feature_id: str | list[str],
    customer_id: str | None = None,
    range_: str | None = None,
    bin_size: str | None = None,
    custom_range: Mapping[str, Any] | None = None,
    group_by: str | None = None,
) -> dict[str, Any]:
    """Sums of tracked values per feature and time bin (UTC), plus totals. An `event_name`
    event counts for every requested feature listening to that name."""
    features = _feature_list(feature_id)
    start, end, size = _window(now, range_, bin_size, custom_range)
    if group_by is not None and not isinstance(group_by, str):
        raise invalid("group_by must be a property name")
    listening = {f.feature_id: f.event_names for f in store.catalog.features(features)}
    records = store.events.in_range(
        customer_id=customer_id if isinstance(customer_id, str) else None, start=start, end=end
    )
    bins: dict[datetime, dict[str, Decimal]] = {}
    grouped: dict[datetime, dict[str, dict[str, Decimal]]] = {}
    cursor = _bin_start(start, size)
    while cursor < end:
        bins[cursor] = dict.fromkeys(features, Decimal(0))
        grouped[cursor] = {f: {} for f in features}
        cursor = _next_bin(cursor, size)
    counts = dict.fromkeys(features, 0)
    sums = dict.fromkeys(features, Decimal(0))
    for event in records:
        period = _bin_start(event.timestamp, size)
        value = from_units(event.value)
        for feature in features:
            names = listening.get(feature, ())
            if event.feature_id != feature and event.event_name not in names:
                continue
            bins.setdefault(period, dict.fromkeys(features, Decimal(0)))[feature] += value
            counts[feature] += 1
            sums[feature] += value
            if group_by is not None:
                key = str(event.properties.get(group_by, ""))
                slot = grouped.setdefault(period, {f: {} for f in features})[feature]
                slot[key] = slot.get(key, Decimal(0)) + value
    rows = []
    for period in sorted(bins):
        row: dict[str, Any] = {"period": to_ms(period), "values": bins[period]}
        if group_by is not None:
            row["grouped_values"] = grouped.get(period, {})
        rows.append(row)
    return {"list": rows, "total": {f: {"count": counts[f], "sum": sums[f]} for f in features}}

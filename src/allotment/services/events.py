"""Use case: list usage events, newest first, with cursor pagination."""

from __future__ import annotations

from collections.abc import Mapping

from allotment import schemas
from allotment.domain.amounts import from_units
from allotment.domain.clock import from_ms, to_ms
from allotment.domain.errors import invalid
from allotment.storage.store import Store


def _range_bound(custom_range: Mapping[str, object], key: str) -> int | None:
    value = custom_range.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"custom_range.{key} must be Unix milliseconds")
    return value


def list_page(
    store: Store,
    *,
    customer_id: object = None,
    feature_id: object = None,
    custom_range: object = None,
    start_cursor: object = None,
    limit: object = 50,
) -> schemas.EventsPage:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise invalid("limit must be an integer from 1 to 1000")
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
        start, end = _range_bound(custom_range, "start"), _range_bound(custom_range, "end")
    before = None
    if start_cursor is not None:
        if not isinstance(start_cursor, str) or not start_cursor.isdigit():
            raise invalid("start_cursor is not a cursor this server returned")
        before = int(start_cursor)
    records = store.events.page(
        customer_id=customer_id,
        feature_ids=features,
        start=from_ms(start) if start is not None else None,
        end=from_ms(end) if end is not None else None,
        before_id=before,
        limit=limit + 1,
    )
    more = len(records) > limit
    records = records[:limit]
    return schemas.EventsPage(
        list=[
            schemas.Event(
                id=f"evt_{r.id}",
                timestamp=to_ms(r.timestamp),
                feature_id=r.feature_id,
                event_name=r.event_name,
                customer_id=r.customer_id,
                value=from_units(r.value),
                properties=r.properties,
                idempotency_key=r.idempotency_key,
            )
            for r in records
        ],
        next_cursor=str(records[-1].id) if more and records else None,
    )

"""events.list (filters, cursor pagination) and events.aggregate (ranges, bins, custom_range)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from allotment.domain.clock import to_ms
from tests.api.conftest import Api, Server, new_customer

HOUR = 3600 * 1000
DAY = 24 * HOUR


def track(api: Api, customer_id: str, value: float, at: int, **extra: Any) -> None:
    api.rpc(
        "balances.track",
        {
            "customer_id": customer_id,
            "feature_id": extra.pop("feature_id", "messages"),
            "value": value,
            "timestamp": at,
            **extra,
        },
    )


@pytest.fixture(scope="module")
def history(server: Server, catalog: Api) -> tuple[str, int]:
    """One customer's events: 1 at now-1h, 2 at now-3h, 4 at now-2d, 8 at now-10d, 16 premium
    requests at now-5h; a second customer's 100 at now-1h. Returns (customer, now in ms)."""
    customer_id = new_customer(catalog, "basic", "pro")
    now = to_ms(server.clock.now)
    track(catalog, customer_id, 1, now - HOUR, properties={"model": "a"})
    track(catalog, customer_id, 2, now - 3 * HOUR, properties={"model": "b"})
    track(catalog, customer_id, 4, now - 2 * DAY, properties={"model": "a"})
    track(catalog, customer_id, 8, now - 10 * DAY)
    track(catalog, customer_id, 16, now - 5 * HOUR, feature_id="premium_request")
    other = new_customer(catalog, "basic")
    track(catalog, other, 100, now - HOUR)
    return customer_id, now


def values(page: dict[str, Any]) -> list[Any]:
    return [e["value"] for e in page["list"]]


def test_events_list_is_newest_first_per_customer(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, _ = history
    page = catalog.rpc("events.list", {"customer_id": customer_id})
    assert values(page) == [16, 8, 4, 2, 1]  # by insertion, newest first
    assert {e["customer_id"] for e in page["list"]} == {customer_id}
    assert page["next_cursor"] is None


def test_events_list_cursor_pagination(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, _ = history
    pages: list[list[Any]] = []
    cursor = None
    for _ in range(10):
        body: dict[str, Any] = {"customer_id": customer_id, "limit": 2}
        if cursor is not None:
            body["start_cursor"] = cursor
        page = catalog.rpc("events.list", body)
        pages.append(values(page))
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert isinstance(cursor, str) and cursor
    assert pages == [[16, 8], [4, 2], [1]]
    exact = catalog.rpc("events.list", {"customer_id": customer_id, "limit": 5})
    assert exact["next_cursor"] is None and len(exact["list"]) == 5


def test_events_list_filters(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, now = history
    by_feature = catalog.rpc(
        "events.list", {"customer_id": customer_id, "feature_id": "premium_request"}
    )
    assert values(by_feature) == [16]
    both = catalog.rpc(
        "events.list", {"customer_id": customer_id, "feature_id": ["premium_request", "messages"]}
    )
    assert len(both["list"]) == 5
    recent = catalog.rpc(
        "events.list",
        {"customer_id": customer_id, "custom_range": {"start": now - 4 * HOUR, "end": now}},
    )
    assert values(recent) == [2, 1]
    event = recent["list"][0]
    assert event["timestamp"] == now - 3 * HOUR and event["properties"] == {"model": "b"}


def test_aggregate_24h_in_hours(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, now = history
    for body in (
        {"range": "24h"},
        {"range": "24h", "bin_size": "hour"},
    ):
        r = catalog.rpc(
            "events.aggregate", {"customer_id": customer_id, "feature_id": "messages", **body}
        )
        assert r["total"] == {"messages": {"count": 2, "sum": 3}}
        periods = [row["period"] for row in r["list"]]
        assert periods == sorted(periods)
        assert all(b - a == HOUR for a, b in itertools.pairwise(periods))
        assert periods[0] <= now - 24 * HOUR < periods[0] + HOUR
        assert periods[-1] <= now < periods[-1] + HOUR  # the range ends at now, inclusive
        by_period = {row["period"]: row["values"]["messages"] for row in r["list"]}
        assert by_period[(now - HOUR) // HOUR * HOUR] == 1
        assert by_period[(now - 3 * HOUR) // HOUR * HOUR] == 2
        assert sum(by_period.values()) == 3


def test_aggregate_7d_in_days(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, now = history
    r = catalog.rpc(
        "events.aggregate",
        {"customer_id": customer_id, "feature_id": "messages", "range": "7d", "bin_size": "day"},
    )
    assert r["total"] == {"messages": {"count": 3, "sum": 7}}
    periods = [row["period"] for row in r["list"]]
    assert all(p % DAY == 0 for p in periods)  # UTC midnights
    assert periods[0] <= now - 7 * DAY and periods[-1] < now <= periods[-1] + DAY
    by_period = {row["period"]: row["values"]["messages"] for row in r["list"]}
    assert by_period[(now - 2 * DAY) // DAY * DAY] == 4
    today = now // DAY * DAY
    assert by_period[today] == 3


def test_aggregate_7d_in_hours(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, _ = history
    r = catalog.rpc(
        "events.aggregate",
        {"customer_id": customer_id, "feature_id": "messages", "range": "7d", "bin_size": "hour"},
    )
    assert r["total"]["messages"] == {"count": 3, "sum": 7}
    assert 7 * 24 <= len(r["list"]) <= 7 * 24 + 1


def test_aggregate_custom_range(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, now = history
    r = catalog.rpc(
        "events.aggregate",
        {
            "customer_id": customer_id,
            "feature_id": ["messages", "premium_request"],
            "bin_size": "day",
            "custom_range": {"start": now - 11 * DAY, "end": now},
        },
    )
    assert r["total"] == {
        "messages": {"count": 4, "sum": 15},
        "premium_request": {"count": 1, "sum": 16},
    }
    assert sum(row["values"]["messages"] for row in r["list"]) == 15
    assert all(set(row["values"]) == {"messages", "premium_request"} for row in r["list"])
    only_old = catalog.rpc(
        "events.aggregate",
        {
            "customer_id": customer_id,
            "feature_id": "messages",
            "custom_range": {"start": now - 11 * DAY, "end": now - 9 * DAY},
        },
    )
    assert only_old["total"] == {"messages": {"count": 1, "sum": 8}}


def test_aggregate_group_by_a_property(catalog: Api, history: tuple[str, int]) -> None:
    customer_id, _ = history
    r = catalog.rpc(
        "events.aggregate",
        {"customer_id": customer_id, "feature_id": "messages", "range": "7d", "group_by": "model"},
    )
    grouped: dict[str, Any] = {}
    for row in r["list"]:
        for key, value in row["grouped_values"]["messages"].items():
            grouped[key] = grouped.get(key, 0) + value
    assert grouped == {"a": 5, "b": 2}


def test_aggregate_of_all_customers(catalog: Api, history: tuple[str, int]) -> None:
    _, now = history
    r = catalog.rpc(
        "events.aggregate",
        {
            "feature_id": "messages",
            "custom_range": {"start": now - HOUR, "end": now - HOUR + 1},
        },
    )
    assert r["total"]["messages"]["sum"] >= 101


def test_aggregate_includes_an_event_tracked_now(server: Server, catalog: Api) -> None:
    """`range: 24h` ends at now: an event tracked in the same millisecond must count."""
    customer_id = new_customer(catalog, "basic")
    catalog.rpc("balances.track", {"customer_id": customer_id, "feature_id": "messages"})
    r = catalog.rpc(
        "events.aggregate", {"customer_id": customer_id, "feature_id": "messages", "range": "24h"}
    )
    assert r["total"] == {"messages": {"count": 1, "sum": 1}}

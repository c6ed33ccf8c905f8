"""The embedded batch of tracks, `Allotment.track_many` (and so `Tenant.track_many`).

What it promises: the whole batch is validated first and one bad item refuses it (naming its
index) with nothing written; then each customer's events are applied in order, each with its
own idempotency key and its own outcome; and the balances afterwards are exactly those of the
same events tracked one by one with `track`. The last is a Hypothesis property: two fresh
engines, one fed the batches, the other the same events one at a time, must agree on every
balance, every event row and its ledger entries, and every event's outcome.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from allotment import Allotment, AllotmentError
from allotment.storage.tables import entries, events
from allotment.wire import BatchTrackItem, BatchTrackResponse, TrackResponse
from allotment.wire.codec import dumps
from tests.catalogs import boolean, credit_system, item, metered, plan
from tests.conftest import FakeClock

# --- the catalog every test here uses ------------------------------------------------------------

CUSTOMERS = ("a", "b", "c")
ENTITIES = (("a", "e1"), ("a", "e2"), ("b", "e1"))
SETUP_EVENTS = {"evt_1", "evt_2", "evt_3"}  # entities.create records a seat each


def workspace(engine: Allotment) -> None:
    """Features, plans, customers and entities, built the same way on every engine.

    * `work` (own grant 4 a month) and `chat` are in the credit system `credits` (30 a month)
      at 3 and 0.25 credits; `work` and `msgs` both listen to the event name `act`.
    * `msgs`: 5 lifetime; entity a/e1 has the add-on `msg_pack` (4 more, its own).
    * `seats`: continuous use, 2 included; each entity takes one.
    * `flag`: a boolean feature.
    * customer `c` also has a loose lifetime grant of 5 `chat`.
    """
    engine.features.create(
        feature_id="work", name="Work", type_="metered", consumable=True, event_names=["act"]
    )
    metered(engine, "chat")
    engine.features.create(
        feature_id="msgs", name="Messages", type_="metered", consumable=True, event_names=["act"]
    )
    metered(engine, "seats", consumable=False)
    boolean(engine, "flag")
    credit_system(engine, "credits", {"work": 3, "chat": Decimal("0.25")})
    plan(
        engine,
        "main",
        item("credits", 30),
        item("work", 4),
        item("msgs", 5, reset=None),
        item("seats", 2, reset=None),
        item("flag", reset=None),
        auto_enable=True,
    )
    plan(engine, "msg_pack", item("msgs", 4, reset=None), add_on=True)
    for customer_id in CUSTOMERS:
        engine.customers.get_or_create(customer_id=customer_id)
    for customer_id, entity_id in ENTITIES:
        engine.entities.create(customer_id=customer_id, entity_id=entity_id, feature_id="seats")
    engine.billing.attach(customer_id="a", plan_id="msg_pack", entity_id="e1")
    engine.balances.create(customer_id="c", feature_id="chat", included_grant=5)


@pytest.fixture
def ws(engine: Allotment) -> Allotment:
    workspace(engine)
    return engine


# --- reading an engine's state -------------------------------------------------------------------


def code(error: AllotmentError) -> str:
    return str(error.code)


def balances(engine: Allotment, customer_id: str) -> dict[str, tuple[Any, Any]]:
    """(remaining, usage) of each of the customer's balances."""
    found = engine.customers.get(customer_id=customer_id).balances
    return {k: (v.remaining, v.usage) for k, v in found.items()}


def state(engine: Allotment) -> dict[str, Any]:
    """Every balance (customers and entities, whole answers), and every event row with its
    ledger entries, per customer in id order (ids themselves left out: a batch reserves them
    per customer, so they differ from one-by-one tracking, but the order within a customer
    does not)."""
    found: dict[str, Any] = {}
    for customer_id in CUSTOMERS:
        customer = engine.customers.get(customer_id=customer_id)
        found[customer_id] = {k: v.model_dump() for k, v in customer.balances.items()}
    for customer_id, entity_id in ENTITIES:
        entity = engine.entities.get(customer_id=customer_id, entity_id=entity_id)
        found[f"{customer_id}/{entity_id}"] = {
            k: v.model_dump() for k, v in entity.balances.items()
        }
    rows: dict[str, list[Any]] = {}
    with engine.database.engine.connect() as connection:
        for event in connection.execute(select(events).order_by(events.c.id)).mappings():
            taken = connection.execute(
                select(
                    entries.c.grant_id,
                    entries.c.kind,
                    entries.c.amount,
                    entries.c.units,
                    entries.c.feature_id,
                    entries.c.effective_at,
                )
                .where(entries.c.event_id == event["id"])
                .order_by(entries.c.id)
            ).all()
            rows.setdefault(event["customer_id"], []).append(
                (
                    event["feature_id"],
                    event["event_name"],
                    event["value"],
                    event["unapplied"],
                    event["properties"],
                    event["timestamp"],
                    event["idempotency_key"],
                    [tuple(entry) for entry in taken],
                )
            )
    found["events"] = rows
    return found


def event_count(engine: Allotment) -> int:
    """Events recorded since the workspace was built."""
    with engine.database.engine.connect() as connection:
        counted = connection.execute(select(func.count()).select_from(events)).scalar_one()
    return int(counted) - len(SETUP_EVENTS)


def entry_count(engine: Allotment) -> int:
    with engine.database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(entries)).scalar_one())


Outcome = tuple[Any, ...]


def batch_outcome(result: BatchTrackItem) -> Outcome:
    if not result.success:
        assert result.id is None and result.code is not None and result.message
        return (False, result.code, result.message)
    assert result.code is None and result.message is None
    return (
        True,
        result.customer_id,
        result.feature_id,
        result.entity_id,
        result.event_name,
        result.value,
        result.id is not None,
    )


def single_outcome(response: TrackResponse) -> Outcome:
    return (
        True,
        response.customer_id,
        response.feature_id,
        response.entity_id,
        response.event_name,
        response.value,
        response.id is not None,
    )


def track_one_by_one(engine: Allotment, items: list[dict[str, Any]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for fields in items:
        try:
            outcomes.append(single_outcome(engine.track(**fields)))
        except AllotmentError as error:
            outcomes.append((False, code(error), error.message))
    return outcomes


def track_in_batches(engine: Allotment, batches: list[list[dict[str, Any]]]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for batch in batches:
        response = engine.track_many(batch)
        assert isinstance(response, BatchTrackResponse)
        assert response.success is True
        assert [r.index for r in response.results] == list(range(len(batch)))
        outcomes += [batch_outcome(r) for r in response.results]
    return outcomes


# --- results per event ---------------------------------------------------------------------------


def test_results_one_per_event_in_order(ws: Allotment) -> None:
    response = ws.track_many(
        [
            {"customer_id": "b", "feature_id": "work", "value": 2},
            {"customer_id": "a", "feature_id": "msgs", "entity_id": "e1", "value": 3},
            {"customer_id": "b", "event_name": "act", "value": 1, "properties": {"k": "v"}},
            {"customer_id": "a", "feature_id": "chat", "value": Decimal("0.5")},
        ]
    )
    assert response.success is True
    results = response.results
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert all(r.success for r in results)
    assert [(r.customer_id, r.feature_id, r.entity_id, r.event_name, r.value) for r in results] == [
        ("b", "work", None, None, 2),
        ("a", "msgs", "e1", None, 3),
        ("b", None, None, "act", 1),  # two features listen to `act`: no single feature_id
        ("a", "chat", None, None, Decimal("0.5")),
    ]
    # each answer names its own event, and the events are there
    ids = [str(r.id) for r in results]
    assert all(r.id is not None and r.id.startswith("evt_") for r in results)
    assert len(set(ids)) == 4
    listed = {e.id: e for c in ("a", "b") for e in ws.events.list(customer_id=c).list}
    assert set(listed) == set(ids) | SETUP_EVENTS
    assert listed[ids[1]].properties == {"entity_id": "e1"}
    assert (listed[ids[2]].event_name, listed[ids[2]].properties) == ("act", {"k": "v"})
    assert listed[ids[3]].value == Decimal("0.5")
    # and the balances moved as the four tracks say
    assert balances(ws, "b")["work"] == (1, 3)  # 2, then 1 more through `act`
    assert balances(ws, "b")["msgs"] == (4, 1)
    assert balances(ws, "a")["credits"] == (Decimal("29.875"), Decimal("0.125"))
    msgs = ws.entities.get(customer_id="a", entity_id="e1").balances["msgs"]
    # of the entity's pack (drawn first) and a's own 5
    assert (msgs.remaining, msgs.usage) == (Decimal(6), Decimal(3))
    pack = [part for part in msgs.breakdown if part.plan_id == "msg_pack"]
    assert [(part.remaining, part.usage) for part in pack] == [(Decimal(1), Decimal(3))]
    assert ws.verify().ok


def test_answer_serialises_without_nulls(ws: Allotment) -> None:
    """The JSON shape the HTTP API sends: optional keys left out when null."""
    response = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "work", "value": 1},
            {"customer_id": "ghost", "feature_id": "work", "value": 1},
        ]
    )
    done, refused = json.loads(dumps(response))["results"]
    assert set(done) == {"index", "success", "customer_id", "id", "feature_id", "value"}
    assert set(refused) == {"index", "success", "customer_id", "code", "message"}
    assert refused["code"] == "customer_not_found"


def test_each_event_keeps_its_own_outcome(ws: Allotment) -> None:
    """An unknown customer, an unknown entity and a refused reject fail those events only;
    every other event of the batch, of the same customers, is recorded."""
    before_b = balances(ws, "b")
    response = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "work", "value": 2},
            {"customer_id": "ghost", "feature_id": "work", "value": 1},
            {"customer_id": "a", "feature_id": "msgs", "entity_id": "nope", "value": 1},
            {"customer_id": "a", "feature_id": "msgs", "value": 10, "overage_behavior": "reject"},
            {"customer_id": "a", "feature_id": "msgs", "value": 9, "overage_behavior": "reject"},
            {"customer_id": "b", "feature_id": "seats", "value": 2, "overage_behavior": "reject"},
            {"customer_id": "a", "feature_id": "work", "value": 3},
        ]
    )
    outcomes = [(r.success, r.code) for r in response.results]
    assert outcomes == [
        (True, None),
        (False, "customer_not_found"),
        (False, "entity_not_found"),
        (False, "insufficient_balance"),
        (True, None),  # 9 fit (a's own 5 and e1's pack of 4); the refused 10 took nothing
        (False, "insufficient_balance"),  # b has 2 seats and its entity takes one
        (True, None),
    ]
    assert response.results[1].customer_id == "ghost"
    assert "ghost" in (response.results[1].message or "")
    assert balances(ws, "a")["work"] == (0, 4)
    assert balances(ws, "a")["credits"] == (27, 3)  # 5 work: 4 own, then 1 at 3 credits
    assert balances(ws, "a")["msgs"] == (0, 9)
    assert balances(ws, "b") == before_b
    assert [e.value for e in ws.events.list(customer_id="a").list][:3] == [3, 9, 2]
    assert event_count(ws) == 3
    assert ws.verify().ok


def test_events_of_one_customer_apply_in_the_order_given(ws: Allotment) -> None:
    """A refund between two deductions, and a reject that only fits because of it."""
    response = ws.track_many(
        [
            {"customer_id": "b", "feature_id": "msgs", "value": 5},
            {"customer_id": "a", "feature_id": "msgs", "value": 1},
            {"customer_id": "b", "feature_id": "msgs", "value": 1, "overage_behavior": "reject"},
            {"customer_id": "b", "feature_id": "msgs", "value": -4},
            {"customer_id": "b", "feature_id": "msgs", "value": 3, "overage_behavior": "reject"},
            {"customer_id": "b", "feature_id": "msgs", "value": 5, "overage_behavior": "overflow"},
            {"customer_id": "b", "feature_id": "msgs", "value": 1, "overage_behavior": "reject"},
        ]
    )
    assert [(r.success, r.code) for r in response.results] == [
        (True, None),
        (True, None),
        (False, "insufficient_balance"),
        (True, None),
        (True, None),
        (True, None),
        (False, "insufficient_balance"),
    ]
    msgs = ws.customers.get(customer_id="b").balances["msgs"]
    # 5 - 4 + 3 + 5 = 9 used of 5: the overflow took the balance to -4 (remaining shows 0)
    assert (msgs.granted, msgs.remaining, msgs.usage) == (Decimal(5), Decimal(0), Decimal(9))
    assert balances(ws, "a")["msgs"] == (8, 1)
    assert [e.value for e in ws.events.list(customer_id="b").list][:4] == [5, 3, -4, 5]
    assert ws.verify().ok


# --- a refused batch writes nothing --------------------------------------------------------------

GOOD: dict[str, Any] = {"customer_id": "a", "feature_id": "work", "value": 1}

REFUSALS: list[tuple[str, list[dict[str, Any]], str, str]] = [
    (
        "unknown feature",
        [GOOD, GOOD, {"customer_id": "a", "feature_id": "nope"}],
        "feature_not_found",
        "[2]: feature 'nope' not found",
    ),
    (
        "no customer_id",
        [GOOD, {"feature_id": "work"}],
        "invalid_inputs",
        "[1].customer_id: Field required",
    ),
    (
        "value not a number",
        [GOOD, {"customer_id": "a", "feature_id": "work", "value": "lots"}],
        "invalid_inputs",
        "[1].value",
    ),
    (
        "value with 7 decimal places",
        [GOOD, {"customer_id": "a", "feature_id": "work", "value": Decimal("0.0000001")}],
        "invalid_inputs",
        "[1]: value",
    ),
    (
        "reject with event_name",
        [GOOD, {"customer_id": "b", "event_name": "act", "overage_behavior": "reject"}],
        "invalid_inputs",
        "[1]: overage_behavior reject cannot be used with event_name",
    ),
    (
        "unknown overage_behavior",
        [GOOD, {"customer_id": "a", "feature_id": "work", "overage_behavior": "spill"}],
        "invalid_inputs",
        "[1].overage_behavior",
    ),
    (
        "both feature_id and event_name",
        [GOOD, {"customer_id": "a", "feature_id": "work", "event_name": "act"}],
        "invalid_inputs",
        "[1]: exactly one of feature_id and event_name is required",
    ),
    (
        "nobody listens to the event name",
        [{"customer_id": "a", "event_name": "silence"}, GOOD],
        "feature_not_found",
        "[0]: ",
    ),
    (
        "empty idempotency key",
        [GOOD, {"customer_id": "a", "feature_id": "work", "idempotency_key": ""}],
        "invalid_inputs",
        "[1]: idempotency_key",
    ),
    (
        "timestamp not Unix ms",
        [GOOD, {"customer_id": "a", "feature_id": "work", "timestamp": 10**15}],
        "invalid_inputs",
        "[1]: timestamp",
    ),
    ("empty list", [], "invalid_inputs", ""),
    ("1,001 events", [GOOD] * 1001, "invalid_inputs", ""),
]


@pytest.mark.parametrize(
    ("items", "expected_code", "message_start"),
    [pytest.param(items, c, m, id=name) for name, items, c, m in REFUSALS],
)
def test_one_bad_item_refuses_the_whole_batch_and_writes_nothing(
    ws: Allotment, items: list[dict[str, Any]], expected_code: str, message_start: str
) -> None:
    before = state(ws)
    entries_before = entry_count(ws)
    with pytest.raises(AllotmentError) as refused:
        ws.track_many(items)
    assert code(refused.value) == expected_code
    assert refused.value.message.startswith(message_start), refused.value.message
    assert event_count(ws) == 0
    assert entry_count(ws) == entries_before
    assert state(ws) == before


def test_a_thousand_events_is_the_limit(ws: Allotment) -> None:
    response = ws.track_many([{"customer_id": "a", "feature_id": "chat", "value": 0}] * 1000)
    assert len(response.results) == 1000
    assert all(r.success for r in response.results)
    assert event_count(ws) == 1000


# --- idempotency keys ----------------------------------------------------------------------------


def test_duplicate_keys_within_a_batch(ws: Allotment) -> None:
    response = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "msgs", "value": 1, "idempotency_key": "k1"},
            {"customer_id": "a", "feature_id": "msgs", "value": 2, "idempotency_key": "k1"},
            {"customer_id": "a", "feature_id": "msgs", "value": 2, "idempotency_key": "k2"},
            {"customer_id": "a", "feature_id": "msgs", "value": 3},
            {"customer_id": "a", "feature_id": "msgs", "value": 16, "idempotency_key": "k2"},
        ]
    )
    assert [(r.success, r.code) for r in response.results] == [
        (True, None),
        (False, "duplicate_idempotency_key"),
        (True, None),
        (True, None),
        (False, "duplicate_idempotency_key"),
    ]
    assert "k1" in (response.results[1].message or "")
    assert balances(ws, "a")["msgs"] == (3, 6)
    listed = ws.events.list(customer_id="a").list[:3]
    assert [(int(e.value), e.idempotency_key) for e in listed] == [(3, None), (2, "k2"), (1, "k1")]
    assert ws.verify().ok


def test_duplicate_keys_across_batches_and_with_single_tracks(ws: Allotment) -> None:
    ws.track(customer_id="a", feature_id="msgs", value=1, idempotency_key="single")
    first = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "msgs", "value": 2, "idempotency_key": "single"},
            {"customer_id": "a", "feature_id": "msgs", "value": 3, "idempotency_key": "batch"},
        ]
    )
    assert [(r.success, r.code) for r in first.results] == [
        (False, "duplicate_idempotency_key"),
        (True, None),
    ]
    # the same batch sent again records nothing twice
    again = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "msgs", "value": 2, "idempotency_key": "single"},
            {"customer_id": "a", "feature_id": "msgs", "value": 3, "idempotency_key": "batch"},
        ]
    )
    assert [r.code for r in again.results] == ["duplicate_idempotency_key"] * 2
    with pytest.raises(AllotmentError) as refused:
        ws.track(customer_id="a", feature_id="msgs", value=1, idempotency_key="batch")
    assert code(refused.value) == "duplicate_idempotency_key"
    assert balances(ws, "a")["msgs"] == (5, 4)
    assert event_count(ws) == 2
    assert ws.verify().ok


def test_a_failed_event_does_not_use_up_its_key(ws: Allotment) -> None:
    """As with `track`: a refused reject, an unknown entity or a boolean feature leaves the
    key free for a later event of the same batch."""
    response = ws.track_many(
        [
            {
                "customer_id": "a",
                "feature_id": "msgs",
                "value": 99,
                "overage_behavior": "reject",
                "idempotency_key": "k",
            },
            {"customer_id": "a", "feature_id": "msgs", "entity_id": "nope", "idempotency_key": "k"},
            {"customer_id": "a", "feature_id": "flag", "idempotency_key": "k"},
            {"customer_id": "a", "feature_id": "msgs", "value": 2, "idempotency_key": "k"},
        ]
    )
    assert [(r.success, r.code) for r in response.results] == [
        (False, "insufficient_balance"),
        (False, "entity_not_found"),
        (True, None),
        (True, None),
    ]
    assert balances(ws, "a")["msgs"] == (7, 2)
    assert event_count(ws) == 1
    assert ws.events.list(customer_id="a").list[0].idempotency_key == "k"


def test_a_key_used_by_an_earlier_event_of_another_customer_is_a_duplicate(
    ws: Allotment,
) -> None:
    """Keys are unique per org and environment, not per customer. The events of a batch are
    applied customer by customer, but "earlier in the same batch" means earlier in the list:
    event 1 (customer b) takes key `k` before event 2 (customer a) asks for it, exactly as
    tracking them one by one does. BUG: the batch applies all of a's events first (a appears
    first, at index 0), so event 2 takes `k` and event 1 is refused as the duplicate."""
    items = [
        {"customer_id": "a", "feature_id": "msgs", "value": 1},
        {"customer_id": "b", "feature_id": "msgs", "value": 2, "idempotency_key": "k"},
        {"customer_id": "a", "feature_id": "msgs", "value": 4, "idempotency_key": "k"},
    ]
    response = ws.track_many(items)
    assert [(r.success, r.code) for r in response.results] == [
        (True, None),
        (True, None),
        (False, "duplicate_idempotency_key"),
    ]
    assert balances(ws, "b")["msgs"] == (3, 2)
    assert balances(ws, "a")["msgs"] == (8, 1)


# --- boolean features ----------------------------------------------------------------------------


def test_boolean_item_answers_success_and_changes_nothing(ws: Allotment) -> None:
    before = state(ws)
    response = ws.track_many(
        [
            {"customer_id": "a", "feature_id": "flag", "value": 5},
            {"customer_id": "b", "feature_id": "flag", "entity_id": "e1"},
        ]
    )
    assert [(r.success, r.id, r.feature_id, r.code) for r in response.results] == [
        (True, None, "flag", None),
        (True, None, "flag", None),
    ]
    assert response.results[0].value == 5
    assert response.results[1].entity_id == "e1"
    assert state(ws) == before
    assert event_count(ws) == 0


# --- bad values a single track refuses before looking at balances --------------------------------


@pytest.mark.parametrize(
    ("field", "bad"),
    [("customer_id", ""), ("customer_id", "x" * 300), ("entity_id", " ")],
)
def test_a_malformed_id_refuses_the_whole_batch(ws: Allotment, field: str, bad: str) -> None:
    """A single track refuses an empty or over-long id with 400 invalid_inputs before it looks
    at any balance, so a batch holding one must be refused whole, naming the index, with
    nothing written. BUG: the ids are checked only when the customer's group is applied, so
    the batch is accepted, the other events are recorded and this one fails alone."""
    with pytest.raises(AllotmentError) as single:
        ws.track(**{**GOOD, field: bad})
    assert code(single.value) == "invalid_inputs"
    with pytest.raises(AllotmentError) as refused:
        ws.track_many([GOOD, {**GOOD, field: bad}])
    assert code(refused.value) == "invalid_inputs"
    assert refused.value.message.startswith("[1]")
    assert event_count(ws) == 0


# --- an event that fans out to two features of one credit system ---------------------------------


def _fan_out_workspace(engine: Allotment) -> None:
    for feature_id in ("f1", "f2"):
        engine.features.create(
            feature_id=feature_id,
            name=feature_id,
            type_="metered",
            consumable=True,
            event_names=["ev"],
        )
    credit_system(engine, "pool", {"f1": 1, "f2": 1})
    plan(engine, "main", item("pool", 10), auto_enable=True)
    for customer_id in ("a", "b"):
        engine.customers.get_or_create(customer_id=customer_id)


FAN_OUT = [
    {"customer_id": "b", "feature_id": "f1", "value": 1},
    {"customer_id": "a", "feature_id": "f1", "value": 1},
    {"customer_id": "a", "event_name": "ev", "value": 8},  # 8 + 8 credits on a pool of 9
    {"customer_id": "a", "feature_id": "f1", "value": 1},
]


def test_fan_out_past_a_shared_pool_is_capped_alike_one_by_one_and_in_a_batch(
    make_engine: Callable[..., Allotment],
) -> None:
    """An event name two features listen to, on one credit system: the features are planned
    one after the other, the second on what the first left (8 of a pool of 9, then 1 of the
    8 it asks, the other 7 unapplied under cap). Before, both were planned on the same 9
    credits: the store refused the 16 they added up to, so `track` refused an event under cap,
    and a batch threw away the customer's whole group at its flush."""
    single = make_engine()
    _fan_out_workspace(single)
    expected = track_one_by_one(single, FAN_OUT)
    assert [o[0] for o in expected] == [True, True, True, True]
    assert balances(single, "a") == {"pool": (0, 10)}
    events = single.events.list(customer_id="a").list
    assert sorted(e.value for e in events) == [1, 1, 8]

    batched = make_engine(org="batched", migrate=False)  # another tenant of the same database
    _fan_out_workspace(batched)
    got = track_in_batches(batched, [FAN_OUT])
    assert got == expected
    assert balances(batched, "a") == {"pool": (0, 10)}
    assert balances(batched, "b") == {"pool": (9, 1)}
    assert batched.verify().ok


# --- equivalence with one-by-one tracks (Hypothesis) ---------------------------------------------

FEATURES = ("work", "chat", "msgs", "seats", "flag", "act")
KEYS_PER_CUSTOMER = 3


@st.composite
def amounts(draw: st.DrawFn, feature: str) -> Decimal | int | None:
    """A value: absent (1), an integer (negative: a refund), or a decimal of at most 6 places
    (at most 4 for `chat`, whose cost of 0.25 adds 2)."""
    kind = draw(st.sampled_from(["none", "int", "int", "decimal"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-8, 15))
    places = draw(st.integers(1, 4 if feature == "chat" else 6))
    units = draw(st.integers(-8 * 10**places, 15 * 10**places))
    return Decimal(units).scaleb(-places)


@st.composite
def track_items(draw: st.DrawFn) -> dict[str, Any]:
    customer_id = draw(st.sampled_from(["a", "a", "a", "b", "b", "c", "ghost"]))
    target = draw(st.sampled_from(FEATURES))
    fields: dict[str, Any] = {"customer_id": customer_id}
    if target == "act":
        fields["event_name"] = "act"
        behaviors: list[str | None] = [None, "cap", "overflow"]
    else:
        fields["feature_id"] = target
        behaviors = [None, "cap", "overflow", "reject", "reject"]
    value = draw(amounts(target))
    if value is not None:
        fields["value"] = value
    behavior = draw(st.sampled_from(behaviors))
    if behavior is not None:
        fields["overage_behavior"] = behavior
    entity_id = draw(st.sampled_from([None, None, "e1", "e2", "e2", "nope"]))
    if entity_id is not None:
        fields["entity_id"] = entity_id
    if draw(st.booleans()):
        # keys repeat within a customer; see the test above for keys shared across customers
        fields["idempotency_key"] = f"{customer_id}-{draw(st.integers(1, KEYS_PER_CUSTOMER))}"
    if draw(st.integers(0, 4)) == 0:
        fields["properties"] = {"model": draw(st.sampled_from(["fast", "slow"]))}
    if draw(st.integers(0, 5)) == 0:
        fields["timestamp"] = 1_767_225_600_000  # 2026-01-01, before the clock's now
    return fields


@st.composite
def batches(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """2 to 40 events cut into 1 to 3 batches (so keys meet both earlier in the same batch
    and already in the database)."""
    items = draw(st.lists(track_items(), min_size=2, max_size=40))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(items) - 1)), max_size=2)))
    bounds = [0, *[c for c in cuts if c < len(items)], len(items)]
    return [items[start:end] for start, end in itertools.pairwise(bounds) if end > start]


@pytest.fixture
def fresh_engines(tmp_path: Path) -> Iterator[Callable[[], tuple[Allotment, Allotment]]]:
    """Two fresh engines with the workspace, on SQLite files of their own, per call."""
    opened: list[Allotment] = []

    def make() -> tuple[Allotment, Allotment]:
        pair = []
        for _ in range(2):
            engine = Allotment(f"sqlite:///{tmp_path / uuid.uuid4().hex}.db", clock=FakeClock())
            opened.append(engine)
            workspace(engine)
            pair.append(engine)
        return pair[0], pair[1]

    yield make
    for engine in opened:
        engine.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=batches())
def test_track_many_equals_tracking_one_by_one(
    fresh_engines: Callable[[], tuple[Allotment, Allotment]], drawn: list[list[dict[str, Any]]]
) -> None:
    batched, single = fresh_engines()
    try:
        assert state(batched) == state(single)  # the same start
        got = track_in_batches(batched, drawn)
        expected = track_one_by_one(single, [fields for batch in drawn for fields in batch])
        assert got == expected
        assert state(batched) == state(single)
        for engine in (batched, single):
            report = engine.verify()
            assert report.ok, report.mismatches
    finally:
        batched.close()
        single.close()

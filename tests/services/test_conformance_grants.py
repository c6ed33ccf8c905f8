"""Embedded: issue 10 (Autumn conformance, round 2), items 4-7, about loose grants
(`balances.create` / `balances.update`). The same behaviour over HTTP is in
tests/api/test_conformance_grants.py. Each test names the Autumn fact it relies on: a file of
Autumn's test suite (useautumn/autumn, server/tests/integration/balances/...) or its server
source, read at HEAD 187c0a7fd."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from allotment import Allotment, AllotmentError
from allotment.domain.clock import from_ms, to_ms
from allotment.storage.tables import entries
from tests.catalogs import metered
from tests.conftest import FakeClock

MS = timedelta(milliseconds=1)


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(**kwargs)
    return caught.value.code


def setup(engine: Allotment, *customer_ids: str) -> None:
    metered(engine, "msgs", name="Messages")
    metered(engine, "seats", consumable=False)
    for customer_id in customer_ids or ("c",):
        engine.customers.get_or_create(customer_id=customer_id)


def row(engine: Allotment, customer_id: str = "c", row_id: str | None = None) -> Any:
    """The breakdown row `row_id` of the customer's msgs balance (the only one if None)."""
    balance = engine.customers.get(customer_id=customer_id).balances["msgs"]
    rows = [r for r in balance.breakdown if row_id is None or r.id == row_id]
    assert len(rows) == 1, balance.breakdown
    return rows[0]


def state(found: Any) -> tuple[Decimal, Decimal, Decimal]:
    return found.included_grant, found.remaining, found.usage


# --- item 4: balances.create takes next_reset_at -------------------------------------------------


def test_next_reset_at_is_the_first_boundary_and_keeps_its_anchor(
    engine: Allotment, clock: FakeClock
) -> None:
    """Issue 10 item 4; Autumn `create/create-balance-next-reset-at.test.ts`: the grant's
    next_reset_at is the value given, verbatim; usage does not move it; when it passes the
    balance refills and the next boundary is that boundary + one interval. Our boundaries keep
    the anchor's day (Jan 31 -> Feb 28 -> Mar 31 -> Apr 30), §8 item 5."""
    clock.set(datetime(2027, 1, 10, 12, tzinfo=UTC))
    setup(engine)
    first = datetime(2027, 1, 31, 6, 30, tzinfo=UTC)
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=50,
        reset={"interval": "month"},
        next_reset_at=to_ms(first),
    )
    assert row(engine).reset.resets_at == to_ms(first)
    engine.track(customer_id="c", feature_id="msgs", value=10)
    clock.set(first - MS)
    assert state(row(engine)) == (50, 40, 10)
    assert row(engine).reset.resets_at == to_ms(first)
    boundaries = [
        first,
        datetime(2027, 2, 28, 6, 30, tzinfo=UTC),
        datetime(2027, 3, 31, 6, 30, tzinfo=UTC),
        datetime(2027, 4, 30, 6, 30, tzinfo=UTC),
        datetime(2027, 5, 31, 6, 30, tzinfo=UTC),
    ]
    for at, following in itertools.pairwise(boundaries):
        clock.set(at)
        assert state(row(engine)) == (50, 50, 0), at
        assert from_ms(row(engine).reset.resets_at) == following
        engine.track(customer_id="c", feature_id="msgs", value=1)
    assert engine.verify().ok


def test_next_reset_at_after_several_unseen_boundaries_rolls_each_over(
    engine: Allotment, clock: FakeClock
) -> None:
    """Issue 10 item 4 with `create/create-balance-with-rollover.test.ts` (§8 item 6): a
    first boundary given by next_reset_at is a boundary like any other, so the leftover rolls
    over there, and boundaries seen late are played as if each had been applied at its
    instant (a 1-month rollover born at each)."""
    clock.set(datetime(2027, 1, 10, tzinfo=UTC))
    setup(engine)
    first = datetime(2027, 1, 31, tzinfo=UTC)
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=10,
        reset={"interval": "month"},
        rollover={"max": 100, "duration": "month", "length": 1},
        next_reset_at=to_ms(first),
        balance_id="monthly",
    )
    engine.track(customer_id="c", feature_id="msgs", value=4)
    clock.set(datetime(2027, 3, 1, tzinfo=UTC))  # Jan 31 and Feb 28 passed unseen
    balance = engine.customers.get(customer_id="c").balances["msgs"]
    assert [(r.balance, from_ms(r.expires_at)) for r in balance.rollovers or []] == [
        (10, datetime(2027, 3, 31, tzinfo=UTC))  # Jan 31's 6 expired on Feb 28
    ]
    assert from_ms(balance.next_reset_at or 0) == datetime(2027, 3, 31, tzinfo=UTC)
    assert [r.id for r in balance.breakdown] == ["monthly"]  # the piece has no balance_id
    assert engine.verify().ok


def test_a_reversal_before_the_first_boundary_gives_back(
    engine: Allotment, clock: FakeClock
) -> None:
    """Issue 10 item 4: until next_reset_at passes the grant is in its first cycle, so a
    reversal gives back (docs/engine.md, Reversal); after it, the new cycle gets nothing."""
    clock.set(datetime(2027, 1, 10, tzinfo=UTC))
    setup(engine)
    first = datetime(2027, 2, 20, tzinfo=UTC)  # a first period longer than one month
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=10,
        reset={"interval": "month"},
        next_reset_at=to_ms(first),
    )
    early = engine.track(customer_id="c", feature_id="msgs", value=3)
    late = engine.track(customer_id="c", feature_id="msgs", value=2)
    clock.set(first - MS)
    assert engine.events.reverse(event_id=early.id).entries[0].restored == 3
    clock.set(first)
    assert engine.events.reverse(event_id=late.id).entries[0].restored == 0
    assert state(row(engine)) == (10, 10, 0)
    assert engine.verify().ok


def test_next_reset_at_refusals(engine: Allotment, clock: FakeClock) -> None:
    """Issue 10 item 4; `create-balance-next-reset-at.test.ts`: next_reset_at without `reset`
    and next_reset_at in the past are refused (400 there, `invalid_inputs` here); so is it at
    the customer's present instant. With expires_at it falls under our `reset` xor
    `expires_at` rule (autumn-sdk documents expires_at as mutually exclusive with reset)."""
    setup(engine)
    base = {"customer_id": "c", "feature_id": "msgs", "included_grant": 5}
    month = {"interval": "month"}
    later = to_ms(clock.now + timedelta(days=3))
    bad: list[dict[str, Any]] = [
        {"next_reset_at": later},
        {"next_reset_at": later, "reset": {"interval": "one_off"}},
        {"next_reset_at": to_ms(clock.now), "reset": month},
        {"next_reset_at": to_ms(clock.now - MS), "reset": month},
        {"next_reset_at": later, "reset": month, "expires_at": later + 1},
        {"next_reset_at": "soon", "reset": month},
        {"next_reset_at": True, "reset": month},
    ]
    for extra in bad:
        assert code_of(engine.balances.create, **base, **extra) == "invalid_inputs", extra
    assert engine.customers.get(customer_id="c").balances == {}


# --- item 5: rollover needs a reset and a consumable feature --------------------------------


def test_rollover_without_reset_or_on_a_non_consumable_feature_is_refused(
    engine: Allotment,
) -> None:
    """Issue 10 item 5; Autumn `validateCreateBalance.ts`: "Rollover cannot be provided for
    one-time balances" and "Rollover is not supported for continuous use features" (400)."""
    setup(engine)
    rollover = {"max": 5, "duration": "month", "length": 1}
    for feature_id, reset in [
        ("msgs", None),
        ("msgs", {"interval": "one_off"}),
        ("seats", {"interval": "month"}),
        ("seats", None),
    ]:
        code = code_of(
            engine.balances.create,
            customer_id="c",
            feature_id=feature_id,
            included_grant=5,
            reset=reset,
            rollover=rollover,
        )
        assert code == "invalid_inputs", (feature_id, reset)
    assert engine.customers.get(customer_id="c").balances == {}


# --- item 6: balance_id is unique per customer -----------------------------------------------


def test_balance_id_is_unique_per_customer(engine: Allotment) -> None:
    """Issue 10 item 6; Autumn `create/create-balance-with-id.test.ts`: the same customer
    reusing a balance_id is refused (409), another customer may use it; updates and deletes by
    balance_id act within the named customer only (`delete/delete-balance.test.ts`)."""
    setup(engine, "a", "b")
    engine.entities.create(customer_id="a", entity_id="e1", feature_id="seats")
    for customer_id, amount in [("a", 100), ("b", 200)]:
        engine.balances.create(
            customer_id=customer_id, feature_id="msgs", included_grant=amount, balance_id="shared"
        )
    for again in [{"customer_id": "a"}, {"customer_id": "a", "entity_id": "e1"}]:
        code = code_of(
            engine.balances.create,
            **again,
            feature_id="msgs",
            included_grant=1,
            balance_id="shared",
        )
        assert code == "duplicate_balance_id", again
    engine.balances.update(customer_id="b", feature_id="msgs", balance_id="shared", remaining=150)
    assert state(row(engine, "a", "shared")) == (100, 100, 0)
    assert state(row(engine, "b", "shared")) == (200, 150, 50)
    engine.track(customer_id="b", feature_id="msgs", value=5)
    engine.balances.delete(customer_id="a", feature_id="msgs", balance_id="shared")
    assert "msgs" not in engine.customers.get(customer_id="a").balances
    assert state(row(engine, "b", "shared")) == (200, 145, 55)
    event = engine.events.list(customer_id="b").list[0]
    reversal = engine.events.reverse(event_id=event.id)
    assert [(e.balance_id, e.restored) for e in reversal.entries] == [("shared", 5)]
    assert engine.verify().ok


# --- item 7: balances.update combines included_grant with the other fields -----------------


def two_rows(engine: Allotment) -> None:
    """A monthly row of 100 and a lifetime row of 50 (Autumn's update-included2 setup)."""
    setup(engine)
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=100,
        reset={"interval": "month"},
        balance_id="monthly",
    )
    engine.balances.create(
        customer_id="c", feature_id="msgs", included_grant=50, balance_id="lifetime"
    )


def test_included_grant_with_remaining_on_the_row_interval_names(engine: Allotment) -> None:
    """Issue 10 item 7; Autumn `update/included/update-included-basic.test.ts` (update-included2):
    a monthly row of 100, `included_grant: 75` with the remaining set to 50 and
    `interval: month` -> that row 75 / 50 / usage 25, the lifetime row untouched."""
    two_rows(engine)
    engine.balances.update(
        customer_id="c",
        feature_id="msgs",
        included_grant=75,
        remaining=50,
        interval="month",
        reason="downgrade",
    )
    assert state(row(engine, row_id="monthly")) == (75, 50, 25)
    assert state(row(engine, row_id="lifetime")) == (50, 50, 0)
    total = engine.customers.get(customer_id="c").balances["msgs"]
    assert (total.granted, total.remaining, total.usage) == (125, 100, 25)
    with engine.database.engine.connect() as connection:
        adjustments = connection.execute(
            select(entries.c.amount, entries.c.note).where(entries.c.kind == "adjustment")
        ).all()
    assert [(a.amount // 10**6, json.loads(a.note)) for a in adjustments] == [
        (-50, {"by": "embedded", "reason": "downgrade"})
    ]
    assert engine.verify().ok


def test_included_grant_alone_and_with_add_or_usage(engine: Allotment) -> None:
    """Issue 10 item 7; Autumn `updateIncludedGrantV2.ts` sets only the granted amount (its
    `adjustment`), the balance stays, so usage follows (update-included4: 50 left, granted 150
    -> usage 100); `updateBalanceV2.ts` applies add_to_balance / usage beside it. Every change
    is one adjustment entry (amount 0 when only the granted amount moved)."""
    two_rows(engine)
    update = engine.balances.update
    update(customer_id="c", feature_id="msgs", balance_id="monthly", remaining=50)
    update(customer_id="c", feature_id="msgs", balance_id="monthly", included_grant=150)
    assert state(row(engine, row_id="monthly")) == (150, 50, 100)
    update(
        customer_id="c",
        feature_id="msgs",
        balance_id="monthly",
        included_grant=80,
        add_to_balance=5,
    )
    assert state(row(engine, row_id="monthly")) == (80, 55, 25)
    update(customer_id="c", feature_id="msgs", balance_id="lifetime", included_grant=60, usage=10)
    assert state(row(engine, row_id="lifetime")) == (60, 50, 10)
    with engine.database.engine.connect() as connection:
        amounts = connection.execute(
            select(entries.c.amount).where(entries.c.kind == "adjustment").order_by(entries.c.id)
        ).scalars()
        assert [a // 10**6 for a in amounts] == [-50, 0, 5, 0]
    assert engine.verify().ok


def test_exclusive_update_fields_are_refused(engine: Allotment) -> None:
    """Issue 10 item 7; Autumn `updateBalanceParams.ts`: "Cannot specify both add_to_balance
    and remaining", "Cannot specify both usage and remaining"; its field docs also say usage
    "cannot be combined with remaining or add_to_balance" (our choice: refused too)."""
    two_rows(engine)
    base = {"customer_id": "c", "feature_id": "msgs", "included_grant": 70}
    for extra in [
        {"remaining": 1, "add_to_balance": 1},
        {"remaining": 1, "usage": 1},
        {"add_to_balance": 1, "usage": 1},
        {"included_grant": -1},
    ]:
        assert code_of(engine.balances.update, **{**base, **extra}) == "invalid_inputs", extra
    assert state(row(engine, row_id="monthly")) == (100, 100, 0)
    assert engine.verify().ok

"""Grants without a plan: balances.create / update / delete, expiry at the exact instant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from allotment import Allotment, AllotmentError
from allotment.domain.clock import to_ms
from allotment.storage.tables import entries
from tests.catalogs import metered
from tests.conftest import FakeClock


def code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(AllotmentError) as caught:
        call(**kwargs)
    return caught.value.code


def setup(engine: Allotment) -> None:
    metered(engine, "msgs", name="Messages")
    engine.customers.get_or_create(customer_id="c")


def balance(engine: Allotment) -> tuple[Decimal, Decimal, Decimal] | None:
    found = engine.customers.get(customer_id="c").balances.get("msgs")
    return None if found is None else (found.granted, found.remaining, found.usage)


def test_promotional_credits_expire_at_the_instant(engine: Allotment, clock: FakeClock) -> None:
    setup(engine)
    expires = clock.now + timedelta(days=7)
    engine.balances.create(
        customer_id="c",
        feature_id="msgs",
        included_grant=50,
        expires_at=to_ms(expires),
        balance_id="promo",
    )
    engine.track(customer_id="c", feature_id="msgs", value=20)
    clock.set(expires - timedelta(milliseconds=1))
    assert balance(engine) == (50, 30, 20)
    clock.set(expires)
    assert balance(engine) is None
    assert not engine.check(customer_id="c", feature_id="msgs").allowed
    assert engine.verify().ok


def test_update_sets_adds_and_sets_usage(engine: Allotment) -> None:
    setup(engine)
    engine.balances.create(
        customer_id="c", feature_id="msgs", included_grant=100, reset={"interval": "month"}
    )
    engine.balances.update(customer_id="c", feature_id="msgs", remaining=120)
    assert balance(engine) == (100, 120, -20)
    engine.balances.update(customer_id="c", feature_id="msgs", add_to_balance=-30)
    assert balance(engine) == (100, 90, 10)
    engine.balances.update(customer_id="c", feature_id="msgs", usage=25)
    assert balance(engine) == (100, 75, 25)
    # included_grant sets the granted amount only (Autumn's updateIncludedGrantV2.ts)
    engine.balances.update(customer_id="c", feature_id="msgs", included_grant=200)
    assert balance(engine) == (200, 75, 125)
    assert engine.verify().ok


def test_errors_and_delete(engine: Allotment, clock: FakeClock) -> None:
    setup(engine)
    engine.balances.create(customer_id="c", feature_id="msgs", included_grant=5, balance_id="b1")
    assert (
        code_of(
            engine.balances.create,
            customer_id="c",
            feature_id="msgs",
            included_grant=5,
            balance_id="b1",
        )
        == "duplicate_balance_id"
    )
    assert code_of(engine.balances.create, customer_id="c", feature_id="msgs") == "invalid_inputs"
    assert (
        code_of(
            engine.balances.create,
            customer_id="c",
            feature_id="msgs",
            included_grant=5,
            expires_at=to_ms(clock.now),
        )
        == "invalid_inputs"
    )
    assert (
        code_of(engine.balances.update, customer_id="c", feature_id="msgs", remaining=1, usage=1)
        == "invalid_inputs"
    )
    assert (
        code_of(
            engine.balances.update,
            customer_id="c",
            feature_id="msgs",
            balance_id="nope",
            remaining=1,
        )
        == "balance_not_found"
    )
    engine.balances.delete(customer_id="c", feature_id="msgs", balance_id="b1")
    assert balance(engine) is None
    assert engine.verify().ok


def test_adjustments_record_who_and_why(engine: Allotment, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    engine.features.create(feature_id="msg", name="Messages", type_="metered", consumable=True)
    engine.customers.get_or_create(customer_id="u")
    engine.balances.create(customer_id="u", feature_id="msg", included_grant=10)
    engine.balances.update(
        customer_id="u",
        feature_id="msg",
        add_to_balance=5,
        reason="goodwill: outage on 1 March",
        actor="support:ana",
    )
    engine.balances.delete(customer_id="u", feature_id="msg", reason="account closed")
    with engine.database.engine.connect() as connection:
        rows = connection.execute(
            select(entries.c.kind, entries.c.amount, entries.c.note).order_by(entries.c.id)
        ).all()
    assert [(r.kind, r.amount // 10**6) for r in rows] == [
        ("grant", 10),
        ("adjustment", 5),
        ("revoke", -15),
    ]
    assert json.loads(rows[1].note) == {
        "by": "support:ana",
        "reason": "goodwill: outage on 1 March",
    }
    assert json.loads(rows[2].note) == {"by": "embedded", "reason": "account closed"}
    with pytest.raises(AllotmentError):
        engine.balances.update(customer_id="u", feature_id="msg", remaining=1, reason="x" * 1001)

"""A customer's test clock: advancing it applies resets, rollovers, expiries and lapsed locks
at the exact instants; only forward; sandbox only; other customers keep real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from allotment import Allotment
from allotment.domain.clock import to_ms
from allotment.domain.errors import AllotmentError
from tests.catalogs import seed_catalog
from tests.conftest import FakeClock

MS = timedelta(milliseconds=1)
START = datetime(2026, 1, 31, 12, tzinfo=UTC)


def remaining(engine: Allotment, customer_id: str = "u") -> object:
    return engine.customers.get(customer_id=customer_id).balances["credits"].remaining


def advance(engine: Allotment, moment: datetime, customer_id: str = "u") -> None:
    result = engine.customers.advance_test_clock(customer_id=customer_id, frozen_time=to_ms(moment))
    assert (result.customer_id, result.frozen_time, result.status) == (
        customer_id,
        to_ms(moment),
        "ready",
    )


def test_advancing_the_clock_resets_at_the_exact_instant(
    engine: Allotment, clock: FakeClock
) -> None:
    clock.set(START)
    seed_catalog(engine)
    for customer in ("u", "other"):
        engine.customers.get_or_create(customer_id=customer)
        engine.track(customer_id=customer, feature_id="premium_request", value=10)
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    advance(engine, boundary - MS)
    assert remaining(engine) == 70
    engine.track(customer_id="u", feature_id="premium_request", value=1)
    assert remaining(engine) == 67
    advance(engine, boundary)
    assert remaining(engine) == 100
    # time stays frozen for the customer: the engine's clock moving does not move it
    clock.set(START + timedelta(days=400))
    assert remaining(engine) == 100
    assert engine.customers.get(customer_id="u").balances["credits"].next_reset_at == to_ms(
        datetime(2026, 3, 31, 12, tzinfo=UTC)
    )
    # the other customer follows the engine's clock
    clock.set(START + timedelta(days=1))
    assert remaining(engine, "other") == 70
    # events tracked under the test clock carry its time
    events = engine.events.list(customer_id="u").list
    assert events[0].timestamp == to_ms(boundary - MS)
    assert engine.verify().ok


def test_time_only_moves_forward(engine: Allotment, clock: FakeClock) -> None:
    clock.set(START)
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    advance(engine, START + timedelta(days=10))
    advance(engine, START + timedelta(days=10))  # the same instant is allowed (nothing moves)
    for bad in (to_ms(START + timedelta(days=9)), -5, 10**20, "soon", True):
        with pytest.raises(AllotmentError) as error:
            engine.customers.advance_test_clock(customer_id="u", frozen_time=bad)  # type: ignore[arg-type]
        assert error.value.code == "invalid_inputs"
    with pytest.raises(AllotmentError) as error:
        engine.customers.advance_test_clock(customer_id="nobody", frozen_time=to_ms(START))
    assert error.value.code == "customer_not_found"


def test_no_test_clocks_in_live(make_engine: object, clock: FakeClock) -> None:
    clock.set(START)
    live = make_engine(env="live")  # type: ignore[operator]
    seed_catalog(live)
    live.customers.get_or_create(customer_id="u")
    with pytest.raises(AllotmentError) as error:
        live.customers.advance_test_clock(customer_id="u", frozen_time=to_ms(START) + 1)
    assert error.value.code == "invalid_request"


def test_locks_lapse_and_promotions_expire_when_the_clock_moves(
    engine: Allotment, clock: FakeClock
) -> None:
    clock.set(START)
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.balances.create(
        customer_id="u",
        feature_id="credits",
        included_grant=50,
        expires_at=to_ms(START + timedelta(hours=2)),
    )
    engine.check(
        customer_id="u",
        feature_id="premium_request",
        required_balance=10,
        lock={"lock_id": "l1", "enabled": True, "expires_at": to_ms(START + timedelta(hours=1))},
    )
    assert remaining(engine) == 120
    advance(engine, START + timedelta(hours=1) - MS)
    assert remaining(engine) == 120
    advance(engine, START + timedelta(hours=1))
    assert remaining(engine) == 150  # the lock lapsed: its 30 credits went back
    advance(engine, START + timedelta(hours=2))
    assert remaining(engine) == 100  # the promotion expired at the instant
    assert engine.verify().ok

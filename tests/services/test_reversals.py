"""events.reverse: exactly what one event took goes back to the grants that paid; a grant that
has reset, expired or been revoked since gets nothing back (recorded as `unrestored`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from allotment import Allotment
from allotment.domain.clock import to_ms
from allotment.domain.errors import AllotmentError
from allotment.storage.tables import entries
from tests.catalogs import seed_catalog
from tests.conftest import FakeClock

START = datetime(2026, 1, 31, 12, tzinfo=UTC)


def credits(engine: Allotment) -> Decimal:
    return engine.customers.get(customer_id="u").balances["credits"].remaining


def kinds(engine: Allotment) -> list[str]:
    with engine.database.engine.connect() as connection:
        return list(connection.scalars(select(entries.c.kind).order_by(entries.c.id)))


@pytest.fixture
def seeded(engine: Allotment, clock: FakeClock) -> Allotment:
    clock.set(START)
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    return engine


def test_reverse_by_id_gives_back_exactly_what_it_took(seeded: Allotment) -> None:
    first = seeded.track(customer_id="u", feature_id="premium_request", value=6)
    seeded.track(customer_id="u", feature_id="premium_request", value=2)
    assert credits(seeded) == 76
    reversal = seeded.events.reverse(event_id=first.id)
    assert credits(seeded) == 94
    assert reversal.id == first.id
    assert [(e.feature_id, e.amount, e.restored, e.reason) for e in reversal.entries] == [
        ("credits", 18, 18, None)
    ]
    with pytest.raises(AllotmentError) as error:
        seeded.events.reverse(event_id=first.id)
    assert error.value.code == "event_already_reversed"
    assert credits(seeded) == 94
    assert kinds(seeded).count("reversal") == 1
    assert seeded.verify().ok


def test_reverse_by_idempotency_key(seeded: Allotment) -> None:
    seeded.track(customer_id="u", feature_id="premium_request", value=1, idempotency_key="k1")
    assert credits(seeded) == 97
    seeded.events.reverse(idempotency_key="k1")
    assert credits(seeded) == 100
    # the key stays used: the same track cannot be sent again
    with pytest.raises(AllotmentError) as error:
        seeded.track(customer_id="u", feature_id="premium_request", value=1, idempotency_key="k1")
    assert error.value.code == "duplicate_idempotency_key"


def test_a_grant_that_reset_since_gets_nothing_back(seeded: Allotment, clock: FakeClock) -> None:
    event = seeded.track(customer_id="u", feature_id="premium_request", value=10)
    assert credits(seeded) == 70
    clock.set(datetime(2026, 2, 28, 12, tzinfo=UTC))  # the reset boundary
    seeded.track(customer_id="u", feature_id="premium_request", value=1)
    reversal = seeded.events.reverse(event_id=event.id)
    assert credits(seeded) == 97  # the new cycle is not raised by old usage
    assert [(e.restored, e.reason) for e in reversal.entries] == [(0, "the grant has reset since")]
    assert "unrestored" in kinds(seeded)
    assert seeded.verify().ok


def test_one_ms_before_the_reset_the_credit_still_goes_back(
    seeded: Allotment, clock: FakeClock
) -> None:
    event = seeded.track(customer_id="u", feature_id="premium_request", value=10)
    clock.set(datetime(2026, 2, 28, 12, tzinfo=UTC) - timedelta(milliseconds=1))
    seeded.events.reverse(event_id=event.id)
    assert credits(seeded) == 100


def test_an_expired_grant_gets_nothing_back(engine: Allotment, clock: FakeClock) -> None:
    clock.set(START)
    engine.features.create(feature_id="msg", name="Messages", type_="metered", consumable=True)
    engine.customers.get_or_create(customer_id="u")
    expiry = START + timedelta(days=3)
    engine.balances.create(
        customer_id="u", feature_id="msg", included_grant=5, expires_at=to_ms(expiry)
    )
    engine.balances.create(customer_id="u", feature_id="msg", included_grant=10)
    event = engine.track(customer_id="u", feature_id="msg", value=7)  # 5 promo + 2 lifetime
    clock.set(expiry)
    reversal = engine.events.reverse(event_id=event.id)
    assert sorted((e.amount, e.restored) for e in reversal.entries) == [(2, 2), (5, 0)]
    assert engine.customers.get(customer_id="u").balances["msg"].remaining == 10
    assert engine.verify().ok


def test_a_held_lock_is_released_not_reversed(seeded: Allotment, clock: FakeClock) -> None:
    seeded.check(
        customer_id="u",
        feature_id="premium_request",
        required_balance=2,
        lock={"lock_id": "l1", "enabled": True},
    )
    event_id = seeded.events.list(customer_id="u").list[0].id
    with pytest.raises(AllotmentError) as error:
        seeded.events.reverse(event_id=event_id)
    assert error.value.code == "invalid_request"
    seeded.balances.finalize(lock_id="l1", action="confirm", override_value=1)
    assert credits(seeded) == 97
    seeded.events.reverse(event_id=event_id)  # only the confirmed 3 credits are left to return
    assert credits(seeded) == 100
    assert seeded.verify().ok


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({}, "invalid_inputs"),
        ({"event_id": "evt_1", "idempotency_key": "k"}, "invalid_inputs"),
        ({"event_id": "evt_999999"}, "event_not_found"),
        ({"event_id": "nope"}, "event_not_found"),
        ({"idempotency_key": "never-used"}, "event_not_found"),
    ],
)
def test_bad_reversals_change_nothing(
    seeded: Allotment, arguments: dict[str, str], code: str
) -> None:
    seeded.track(customer_id="u", feature_id="premium_request", value=1)
    with pytest.raises(AllotmentError) as error:
        seeded.events.reverse(**arguments)
    assert error.value.code == code
    assert credits(seeded) == 97


@pytest.mark.parametrize("how", ["release", "expiry"])
def test_a_lock_across_a_reset_gives_nothing_to_the_new_cycle(
    seeded: Allotment, clock: FakeClock, how: str
) -> None:
    """The same rule as a reversal: a lock reserved before a reset and released (or lapsed)
    after it does not raise the new cycle (what it does not give back is recorded as
    `unrestored`). The lapse counts at its own instant, even when it is noticed only later."""
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    clock.set(boundary - timedelta(hours=1))
    seeded.check(
        customer_id="u",
        feature_id="premium_request",
        required_balance=10,
        lock={"lock_id": "l1", "enabled": True, "expires_at": to_ms(boundary + timedelta(hours=1))},
    )
    assert credits(seeded) == 70
    clock.set(boundary + timedelta(minutes=5))
    seeded.track(customer_id="u", feature_id="premium_request", value=5)  # new cycle: 85
    if how == "release":
        seeded.balances.finalize(lock_id="l1", action="release")
    else:
        clock.set(boundary + timedelta(hours=3))  # lapsed at boundary + 1 h, noticed now
    assert credits(seeded) == 85
    assert kinds(seeded).count("unrestored") == 1  # recorded, as a reversal records it
    assert seeded.verify().ok


def test_a_lock_that_lapses_before_the_reset_gives_back_before_it(
    seeded: Allotment, clock: FakeClock
) -> None:
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    clock.set(boundary - timedelta(hours=2))
    seeded.check(
        customer_id="u",
        feature_id="premium_request",
        required_balance=10,
        lock={"lock_id": "l1", "enabled": True, "expires_at": to_ms(boundary - timedelta(hours=1))},
    )
    clock.set(boundary + timedelta(days=1))  # both the lapse and the reset are noticed now
    assert credits(seeded) == 100
    assert seeded.verify().ok


def test_a_lapse_noticed_late_sees_the_boundaries_before_it(
    engine: Allotment, clock: FakeClock
) -> None:
    """Found by the seeded walk: a lock paid by a never-expiring rollover piece that the next
    boundary closes (nothing left over) must not be given back to that piece when the lapse,
    after the boundary, is only noticed later."""
    clock.set(START)
    engine.features.create(feature_id="work", name="Work", type_="metered", consumable=True)
    engine.plans.create(
        plan_id="main",
        name="Main",
        auto_enable=True,
        items=[
            {
                "feature_id": "work",
                "included": 8,
                "reset": {"interval": "month"},
                "rollover": {"max_percentage": 50, "expiry_duration_type": "forever"},
            }
        ],
    )
    engine.customers.get_or_create(customer_id="u")
    boundary = datetime(2026, 2, 28, 12, tzinfo=UTC)
    clock.set(boundary - timedelta(days=1))
    engine.track(customer_id="u", feature_id="work", value=5)  # 3 left: a 3 piece next
    next_boundary = datetime(2026, 3, 31, 12, tzinfo=UTC)
    clock.set(next_boundary - timedelta(minutes=2))
    engine.check(  # the lock is paid by the piece (3)
        customer_id="u",
        feature_id="work",
        required_balance=3,
        lock={
            "lock_id": "l1",
            "enabled": True,
            "expires_at": to_ms(next_boundary + timedelta(minutes=1)),
        },
    )
    clock.set(next_boundary - timedelta(minutes=1))
    engine.track(customer_id="u", feature_id="work", value=8)  # nothing left at the boundary
    clock.set(next_boundary + timedelta(days=2))  # boundary, then the lapse, noticed now
    work = engine.customers.get(customer_id="u").balances["work"]
    assert (work.remaining, work.rollovers) == (8, None)  # the emptied piece closed; no credit
    assert engine.verify().ok


def test_a_release_gives_back_every_credit_when_units_were_rounded(
    engine: Allotment, clock: FakeClock
) -> None:
    """Found by the long seeded walk: 25.47 units at 3 credits each spread over four grants
    round to 2.576667 + 10.666667 + 10.666667 + 1.56 = 25.470001 units, and counting down from
    the lock's 25.47 used to stop 0.000003 credits short."""
    clock.set(START)
    engine.features.create(feature_id="work", name="Work", type_="metered", consumable=True)
    engine.features.create(
        feature_id="pool",
        name="Pool",
        type_="credit_system",
        credit_schema=[{"metered_feature_id": "work", "credit_cost": 3}],
    )
    engine.customers.get_or_create(customer_id="u")
    for included in ("7.73", "32", "32", "32"):
        engine.balances.create(customer_id="u", feature_id="pool", included_grant=Decimal(included))
    engine.check(
        customer_id="u",
        feature_id="work",
        required_balance=Decimal("25.47"),
        lock={"lock_id": "l1", "enabled": True},
    )
    assert engine.customers.get(customer_id="u").balances["pool"].remaining == Decimal("27.32")
    engine.balances.finalize(lock_id="l1", action="release")
    assert engine.customers.get(customer_id="u").balances["pool"].remaining == Decimal("103.73")
    assert engine.verify().ok

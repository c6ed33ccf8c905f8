"""The floor guard of `GrantStore.add_to_balances`: a change that would take a grant below
its floor changes nothing and raises `OverdrawRefused`, and the transaction rolls back.

Floors (DESIGN.md "Floors", domain.deduction): 0 for a consumable grant; `floor` for a
pay-per-use one (`usage_allowed`; NULL: no floor); none for an unlimited grant. A grant the
caller names in `past_floor` may pass its floor: the engine's deliberate overdraws (overflow,
a continuous-use allocation past its grant, a manual adjustment)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from allotment import Allotment
from allotment.domain.errors import AllotmentError, ErrorCode, OverdrawRefused
from allotment.runner import Runner
from allotment.storage.database import Database
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store
from allotment.storage.tables import entries
from tests.storage.rows import ENV, NOW, ORG, UNIT, balance_of, customer, grant, store_of

GUARDED: frozenset[int] = frozenset()  # past_floor naming no grant: every change guarded


def _setup(database: Database, *balances: int, **fields: object) -> list[int]:
    with database.transaction(write=True) as connection:
        store = store_of(connection)
        owner = customer(store)
        return [grant(store, owner, b, **fields) for b in balances]


def test_a_change_down_to_the_floor_is_applied(database: Database) -> None:
    (g,) = _setup(database, 10)
    with database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -10 * UNIT}, GUARDED)
    assert balance_of(database, g) == 0


def test_a_change_below_the_floor_is_refused_and_changes_nothing(database: Database) -> None:
    g, other = _setup(database, 10, 10)
    with pytest.raises(OverdrawRefused) as refused, database.transaction(write=True) as c:
        store = store_of(c)
        try:
            store.grants.add_to_balances({other: 3 * UNIT, g: -11 * UNIT}, GUARDED)
        finally:  # inside the transaction: the refused row kept its balance
            assert store.grants.by_ids([g])[g].balance == 10 * UNIT
    assert refused.value.grant_ids == [g]
    assert refused.value.code == ErrorCode.INSUFFICIENT_BALANCE
    assert isinstance(refused.value, AllotmentError)
    assert f"grant {g} below its floor" in refused.value.message
    # the transaction rolled back: the change of `other`, applied with it, is gone too
    assert (balance_of(database, g), balance_of(database, other)) == (10, 10)


def test_a_refused_batch_names_its_guarded_grants(database: Database) -> None:
    """One executemany: the store knows how many rows it changed, not which; it names every
    grant the call lowered under the guard."""
    g, other, named = _setup(database, 10, 10, 10)
    with pytest.raises(OverdrawRefused) as refused, database.transaction(write=True) as c:
        changes = {other: -3 * UNIT, g: -11 * UNIT, named: -20 * UNIT}
        store_of(c).grants.add_to_balances(changes, {named})
    assert refused.value.grant_ids == [other, g]
    assert f"one of grants {other}, {g} below its floor" in refused.value.message
    assert [balance_of(database, x) for x in (g, other, named)] == [10, 10, 10]


def test_the_runner_rolls_back_the_whole_operation(database: Database) -> None:
    """A refusal inside a use case: its other writes (an entry, a change that fitted) roll back
    with it; the runner replans (a balance that moved under the plan) and raises if it repeats."""
    g, other = _setup(database, 2, 10)
    attempts: list[int] = []

    def operation(store: Store, now: datetime, _write: bool) -> None:
        attempts.append(1)
        store.grants.append_entries([EntryRecord(other, "usage", -UNIT, now)], now)
        store.grants.add_to_balances({other: -UNIT}, GUARDED)
        store.grants.add_to_balances({g: -3 * UNIT}, GUARDED)

    with pytest.raises(OverdrawRefused):
        Runner(database, lambda: NOW).run(ORG, ENV, operation, write=True)
    assert len(attempts) == 3
    assert (balance_of(database, g), balance_of(database, other)) == (2, 10)
    with database.transaction(write=False) as connection:
        assert connection.scalar(select(func.count()).select_from(entries)) == 0


def test_a_refused_change_then_replanned_succeeds(database: Database) -> None:
    (g,) = _setup(database, 2)
    attempts: list[int] = []

    def operation(store: Store, _now: datetime, _write: bool) -> None:
        attempts.append(1)
        take = 3 if len(attempts) == 1 else 2  # the first plan read a stale balance
        store.grants.add_to_balances({g: -take * UNIT}, GUARDED)

    Runner(database, lambda: NOW).run(ORG, ENV, operation, write=True)
    assert (len(attempts), balance_of(database, g)) == (2, 0)


def test_pay_per_use_goes_down_to_its_floor_not_past_it(database: Database) -> None:
    (g,) = _setup(database, 0, usage_allowed=True, floor=-5)
    with database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -5 * UNIT}, GUARDED)
    with pytest.raises(OverdrawRefused), database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -1}, GUARDED)
    assert balance_of(database, g) == -5


def test_a_floor_applies_only_to_pay_per_use(database: Database) -> None:
    """A `floor` below 0 on a grant without `usage_allowed` does not lower its floor (pass 2 of
    the deduction only uses floors of pay-per-use grants): 0 stays its floor."""
    (g,) = _setup(database, 1, floor=-5)
    with pytest.raises(OverdrawRefused), database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -2 * UNIT}, GUARDED)
    assert balance_of(database, g) == 1


def test_no_floor_pay_per_use_and_unlimited_run_negative(database: Database) -> None:
    (open_ended,) = _setup(database, 0, usage_allowed=True, floor=None)
    with database.transaction(write=True) as connection:
        store = store_of(connection)
        unlimited = grant(store, customer(store, "d"), 0, granted=0, unlimited=True)
        store.grants.add_to_balances({open_ended: -1000 * UNIT, unlimited: -7 * UNIT}, GUARDED)
    assert (balance_of(database, open_ended), balance_of(database, unlimited)) == (-1000, -7)


def test_a_named_grant_may_pass_its_floor(database: Database) -> None:
    """A continuous-use allocation past its grant (8 seats of 5), an overflow, a manual
    adjustment: the caller names the grant; the others of the call stay guarded."""
    seats, pool = _setup(database, 5, 1)
    with database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({seats: -8 * UNIT}, {seats})
    assert balance_of(database, seats) == -3
    with pytest.raises(OverdrawRefused) as refused, database.transaction(write=True) as c:
        store_of(c).grants.add_to_balances({seats: -UNIT, pool: -2 * UNIT}, {seats})
    assert refused.value.grant_ids == [pool]
    assert (balance_of(database, seats), balance_of(database, pool)) == (-3, 1)


def test_raising_a_balance_is_never_refused(database: Database) -> None:
    """Refunds, reversals, releases, revokes of an overdrawn grant: a grant below its floor
    (left there by an overflow) may always move up, even if it stays below; never further down."""
    (g,) = _setup(database, -5)
    with database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: 2 * UNIT}, GUARDED)
    assert balance_of(database, g) == -3
    with pytest.raises(OverdrawRefused), database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -1}, GUARDED)
    assert balance_of(database, g) == -3


def test_a_caller_that_names_no_grants_is_guarded(database: Database) -> None:
    """The default names no grant: every lowering change is guarded."""
    (g,) = _setup(database, 1)
    with pytest.raises(OverdrawRefused), database.transaction(write=True) as connection:
        store_of(connection).grants.add_to_balances({g: -4 * UNIT})
    assert balance_of(database, g) == 1


def test_set_balances_still_work(database: Database) -> None:
    """Statements that set a balance rather than move it: a reset (to `granted`) and closing a
    grant (to 0) never go below a floor, and carry no guard."""
    (g,) = _setup(database, -4, granted=6)
    with database.transaction(write=True) as connection:
        store = store_of(connection)
        reset = store.grants.by_ids([g])[g]
        assert store.grants.reset(reset.with_balance(6 * UNIT), None)
    assert balance_of(database, g) == 6
    with database.transaction(write=True) as connection:
        store_of(connection).grants.deactivate([g])
    assert balance_of(database, g) == 0


def test_the_engine_still_counts_seats_past_their_grant(database_url: str) -> None:
    """A legitimate overage through the engine: a continuous-use feature counts 8 seats of 5
    (cap), and an overflow takes a pool below 0; the ledger agrees."""
    with Allotment(database_url) as engine:
        engine.features.create(feature_id="seats", name="S", type_="metered", consumable=False)
        engine.features.create(feature_id="msgs", name="M", type_="metered", consumable=True)
        engine.plans.create(
            plan_id="team",
            name="Team",
            auto_enable=True,
            items=[{"feature_id": "seats", "included": 5}, {"feature_id": "msgs", "included": 2}],
        )
        engine.customers.get_or_create(customer_id="c")
        engine.track(customer_id="c", feature_id="seats", value=8)
        engine.track(customer_id="c", feature_id="msgs", value=5, overage_behavior="overflow")
        balances = engine.customers.get(customer_id="c").balances
        assert (balances["seats"].usage, balances["msgs"].usage) == (8, 5)
        assert engine.verify().ok

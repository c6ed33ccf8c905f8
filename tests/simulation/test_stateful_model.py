"""Stateful model test: the real engine against a small in-memory reference model.

Hypothesis drives `allotment.Allotment` (on a fresh SQLite file per example, and on a throwaway
PostgreSQL database per example when a server is reachable) with random tracks, refunds, checks,
atomic check-and-deduct, idempotent tracks, add-on attaches and clock travel, and compares every
balance with a reference model written here from DESIGN.md's domain rules. The model imports
nothing from the engine's domain or services code.

Catalog of every example: a consumable metered feature `work`; a credit system `pool` where one
unit of `work` costs C credits; a main plan `main` (auto_enable) holding a monthly `work` grant
and/or a monthly or lifetime `pool` grant; an add-on plan `topup` with a lifetime `pool` grant.

Rules modelled (DESIGN.md, "Domain rules"):
* deduction order: the feature's own rows before pool rows; rows with a reset before lifetime
  rows; main plan before add-on; oldest first. Pass 1 takes each row down to 0 (no pay-per-use
  here, so there is no pass 2); a pool row is debited value x C credits and, when it covers only
  part, the rest continues to the next row.
* `cap` drops what does not fit; `reject` is all or nothing (`insufficient_balance`).
* a negative value refills in reverse deduction order, never above a row's granted amount; when
  pool credits left over are turned back into units, the units are rounded half-even to 6 places.
* check: the own balance if it suffices, else the pool if the customer has one (required balance
  converted to credits), else the own balance (or no balance at all).
* check with send_event: an atomic check-and-deduct, all or nothing.
* monthly resets are lazy, anchored at the grant's creation instant, clamped per month
  (Jan 31 -> Feb 28 -> Mar 31 -> Apr 30), never drifting.
* an idempotency key is unique per org and environment; a failed request never burns its key.
"""

from __future__ import annotations

import calendar
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from allotment import Allotment, AllotmentError
from tests.conftest import (
    POSTGRES_SERVER,
    REQUIRE_POSTGRES,
    FakeClock,
    _postgres_problem,
    _postgres_reachable,
)

WORK = "work"
POOL = "pool"
SCALE = Decimal("0.000001")
MAX_TOPUPS = 3
CUSTOMERS = ("c1", "c2")

# Starting instants chosen to exercise month-end clamping (and a leap February).
STARTS = (
    datetime(2026, 1, 31, 12, 0, tzinfo=UTC),
    datetime(2027, 12, 31, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 31, 0, 0, tzinfo=UTC),
    datetime(2026, 1, 29, 8, 15, tzinfo=UTC),
)
COSTS = (Decimal(1), Decimal(3), Decimal("0.5"), Decimal("2.5"), Decimal("0.125"))


# --------------------------------------------------------------------------------------------
# The reference model
# --------------------------------------------------------------------------------------------


def add_months(anchor: datetime, months: int) -> datetime:
    """`anchor` moved by whole months, the day clamped to the target month's length."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return anchor.replace(year=year, month=month, day=min(anchor.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass
class Row:
    """One balance row (grant) of a customer, in the model."""

    feature: str
    granted: Decimal
    balance: Decimal
    monthly: bool
    add_on: bool
    seq: int  # creation order, which is also the engine's id order
    anchor: datetime
    cycles: int = 0  # boundaries applied so far

    def order_key(self) -> tuple[bool, bool, bool, int]:
        return (self.feature == POOL, not self.monthly, self.add_on, self.seq)

    def boundary(self, k: int) -> datetime:
        return add_months(self.anchor, k)

    def next_reset(self) -> datetime | None:
        return self.boundary(self.cycles + 1) if self.monthly else None

    def apply_resets(self, now: datetime) -> None:
        if not self.monthly:
            return
        k = self.cycles
        while self.boundary(k + 1) <= now:
            k += 1
        if k != self.cycles:
            self.cycles = k
            self.balance = self.granted


@dataclass
class CustomerModel:
    rows: list[Row] = field(default_factory=list)

    def ordered(self, feature: str) -> list[Row]:
        return sorted((r for r in self.rows if r.feature == feature), key=Row.order_key)

    def total(self, feature: str) -> Decimal:
        return sum((r.balance for r in self.rows if r.feature == feature), Decimal(0))

    def has(self, feature: str) -> bool:
        return any(r.feature == feature for r in self.rows)


class InsufficientBalance(Exception):
    pass


@dataclass
class Model:
    cost: Decimal
    main_items: list[tuple[str, Decimal, bool]]  # (feature, included, monthly)
    topup_included: Decimal
    customers: dict[str, CustomerModel] = field(default_factory=dict)
    used_keys: set[str] = field(default_factory=set)
    seq: int = 0

    def _row(
        self, feature: str, included: Decimal, monthly: bool, add_on: bool, now: datetime
    ) -> Row:
        self.seq += 1
        return Row(feature, included, included, monthly, add_on, self.seq, now)

    def create_customer(self, customer_id: str, now: datetime) -> None:
        model = CustomerModel()
        for feature, included, monthly in self.main_items:
            model.rows.append(self._row(feature, included, monthly, False, now))
        self.customers[customer_id] = model

    def attach_topup(self, customer_id: str, now: datetime) -> None:
        self.customers[customer_id].rows.append(
            self._row(POOL, self.topup_included, False, True, now)
        )

    def apply_resets(self, now: datetime) -> None:
        for customer in self.customers.values():
            for row in customer.rows:
                row.apply_resets(now)

    def fits(self, customer_id: str, value: Decimal) -> bool:
        c = self.customers[customer_id]
        own = c.total(WORK)
        return value <= own or (value - own) * self.cost <= c.total(POOL)

    def deduct(self, customer_id: str, value: Decimal, *, reject: bool) -> None:
        """Pass 1 over own rows then pool rows; `cap` drops the rest, `reject` refuses."""
        if reject and not self.fits(customer_id, value):
            raise InsufficientBalance
        c = self.customers[customer_id]
        units = value
        for row in c.ordered(WORK):
            take = min(row.balance, units)
            row.balance -= take
            units -= take
        credits = units * self.cost
        assert credits == credits.quantize(SCALE), "the model left the 6-place scale"
        for row in c.ordered(POOL):
            take = min(row.balance, credits)
            row.balance -= take
            credits -= take

    def refund(self, customer_id: str, value: Decimal) -> None:
        """Refill in reverse deduction order (pool rows last-first, then own rows), never above
        granted. Credits left over become units again, rounded half-even to the scale."""
        c = self.customers[customer_id]
        credits = value * self.cost
        for row in reversed(c.ordered(POOL)):
            take = min(row.granted - row.balance, credits)
            row.balance += take
            credits -= take
        exact = Fraction(credits) / Fraction(self.cost)
        units = Decimal(round(exact * 10**6)) * SCALE
        for row in reversed(c.ordered(WORK)):
            take = min(row.granted - row.balance, units)
            row.balance += take
            units -= take

    def check(self, customer_id: str, required: Decimal) -> tuple[bool, Decimal, str | None]:
        """(allowed, required_balance echoed, feature id of the answering balance)."""
        c = self.customers[customer_id]
        if c.has(WORK) and c.total(WORK) >= required:
            return True, required, WORK
        if c.has(POOL):
            converted = required * self.cost
            return c.total(POOL) >= converted, converted, POOL
        return False, required, WORK if c.has(WORK) else None


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------


def _cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


amounts = st.one_of(st.integers(1, 12).map(Decimal), _cents(1, 3000))
included_work = st.one_of(st.integers(1, 20).map(Decimal), _cents(0, 2000))
included_pool = st.one_of(st.integers(1, 60).map(Decimal), _cents(0, 6000))
required = st.one_of(st.just(Decimal(0)), st.integers(1, 40).map(Decimal), _cents(1, 4000))
minutes = st.one_of(
    st.integers(1, 180),
    st.integers(1, 72).map(lambda h: h * 60),
    st.integers(1, 70 * 24 * 60),
    st.integers(1, 70).map(lambda d: d * 24 * 60),
)
keys = st.sampled_from(["k1", "k2", "k3", "k4"])
who = st.integers(0, len(CUSTOMERS) - 1)


@st.composite
def main_plans(draw: st.DrawFn) -> list[tuple[str, Decimal, bool]]:
    items: list[tuple[str, Decimal, bool]] = []
    if draw(st.booleans()):
        items.append((WORK, draw(included_work), True))
    if draw(st.booleans()):
        items.append((POOL, draw(included_pool), draw(st.booleans())))
    return draw(st.permutations(items))


def _item(feature: str, included: Decimal, monthly: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"feature_id": feature, "included": str(included)}
    if monthly:
        item["reset"] = {"interval": "month"}
    return item


# --------------------------------------------------------------------------------------------
# The state machine
# --------------------------------------------------------------------------------------------


class EngineVersusModel(RuleBasedStateMachine):
    """Subclasses say where the database lives (`_database_url`, `_drop_database`)."""

    def __init__(self) -> None:
        super().__init__()
        self.engine: Allotment | None = None
        self.clock = FakeClock()
        self.model: Model | None = None

    # database lifecycle, per example ----------------------------------------------------

    def _database_url(self) -> str:
        raise NotImplementedError

    def _drop_database(self) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        if self.engine is not None:
            self.engine.close()
        self._drop_database()

    # helpers ------------------------------------------------------------------------------

    @property
    def e(self) -> Allotment:
        assert self.engine is not None
        return self.engine

    @property
    def m(self) -> Model:
        assert self.model is not None
        return self.model

    def _customer(self, index: int) -> str:
        existing = list(self.m.customers)
        return existing[index % len(existing)]

    def _sync_clock(self) -> datetime:
        now = self.clock()
        self.m.apply_resets(now)
        return now

    def _expect_unchanged(self, call: Callable[[], object], code: str) -> None:
        with pytest.raises(AllotmentError) as raised:
            call()
        assert raised.value.code == code, raised.value

    # setup --------------------------------------------------------------------------------

    @initialize(
        cost=st.sampled_from(COSTS),
        items=main_plans(),
        topup=included_pool,
        start=st.sampled_from(STARTS),
        topups=st.integers(0, 2),
    )
    def setup(
        self,
        cost: Decimal,
        items: list[tuple[str, Decimal, bool]],
        topup: Decimal,
        start: datetime,
        topups: int,
    ) -> None:
        self.clock.set(start)
        self.engine = Allotment(self._database_url(), clock=self.clock)
        self.model = Model(cost=cost, main_items=list(items), topup_included=topup)
        e = self.engine
        e.features.create(feature_id=WORK, name="Work", type_="metered", consumable=True)
        e.features.create(
            feature_id=POOL,
            name="Pool",
            type_="credit_system",
            credit_schema=[{"metered_feature_id": WORK, "credit_cost": str(cost)}],
        )
        e.plans.create(
            plan_id="main",
            name="Main",
            auto_enable=True,
            items=[_item(*entry) for entry in items],
        )
        e.plans.create(
            plan_id="topup", name="Top-up", add_on=True, items=[_item(POOL, topup, False)]
        )
        e.customers.get_or_create(customer_id=CUSTOMERS[0])
        self.m.create_customer(CUSTOMERS[0], start)
        for _ in range(topups):
            e.billing.attach(customer_id=CUSTOMERS[0], plan_id="topup")
            self.m.attach_topup(CUSTOMERS[0], start)

    # rules --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.m.customers) < len(CUSTOMERS))
    @rule()
    def add_customer(self) -> None:
        customer_id = CUSTOMERS[len(self.m.customers)]
        now = self._sync_clock()
        self.e.customers.get_or_create(customer_id=customer_id)
        self.m.create_customer(customer_id, now)

    @precondition(
        lambda self: sum(r.add_on for c in self.m.customers.values() for r in c.rows) < MAX_TOPUPS
    )
    @rule(index=who)
    def attach_topup(self, index: int) -> None:
        customer_id = self._customer(index)
        now = self._sync_clock()
        self.e.billing.attach(customer_id=customer_id, plan_id="topup")
        self.m.attach_topup(customer_id, now)

    @rule(index=who, value=amounts, behavior=st.sampled_from([None, "cap", "reject"]))
    def track(self, index: int, value: Decimal, behavior: str | None) -> None:
        customer_id = self._customer(index)
        self._sync_clock()
        reject = behavior == "reject"
        if reject and not self.m.fits(customer_id, value):
            self._expect_unchanged(
                lambda: self.e.track(
                    customer_id=customer_id,
                    feature_id=WORK,
                    value=value,
                    overage_behavior=behavior,
                ),
                "insufficient_balance",
            )
            return
        response = self.e.track(
            customer_id=customer_id, feature_id=WORK, value=value, overage_behavior=behavior
        )
        self.m.deduct(customer_id, value, reject=reject)
        self._compare_track_balance(customer_id, response.balance)

    @rule(
        index=who,
        reach=st.sampled_from(["own", "all", "used", "pool_used"]),
        cents=st.integers(-3, 3),
        behavior=st.sampled_from(["cap", "reject"]),
    )
    def track_near_an_edge(self, index: int, reach: str, cents: int, behavior: str) -> None:
        """A value a few cents either side of an edge: the own balance or everything available
        (tracked), everything used or what the pools paid (refunded). Off-by-one and ordering
        mistakes show there, and so does the rounding of units a pool gives back."""
        customer_id = self._customer(index)
        self._sync_clock()
        c = self.m.customers[customer_id]
        own_used = sum((r.granted - r.balance for r in c.ordered(WORK)), Decimal(0))
        pool_used = sum((r.granted - r.balance for r in c.ordered(POOL)), Decimal(0))
        edge = {
            "own": c.total(WORK),
            "all": c.total(WORK) + c.total(POOL) / self.m.cost,
            "used": own_used + pool_used / self.m.cost,
            "pool_used": pool_used / self.m.cost,
        }[reach]
        value = edge.quantize(Decimal("0.01"), rounding=ROUND_CEILING) + Decimal(cents) / 100
        if value <= 0:
            return
        if reach in ("used", "pool_used"):
            response = self.e.track(customer_id=customer_id, feature_id=WORK, value=-value)
            self.m.refund(customer_id, value)
        elif behavior == "reject" and not self.m.fits(customer_id, value):
            self._expect_unchanged(
                lambda: self.e.track(
                    customer_id=customer_id, feature_id=WORK, value=value, overage_behavior=behavior
                ),
                "insufficient_balance",
            )
            return
        else:
            response = self.e.track(
                customer_id=customer_id, feature_id=WORK, value=value, overage_behavior=behavior
            )
            self.m.deduct(customer_id, value, reject=behavior == "reject")
        self._compare_track_balance(customer_id, response.balance)

    @rule(index=who, value=amounts)
    def refund(self, index: int, value: Decimal) -> None:
        customer_id = self._customer(index)
        self._sync_clock()
        response = self.e.track(customer_id=customer_id, feature_id=WORK, value=-value)
        self.m.refund(customer_id, value)
        self._compare_track_balance(customer_id, response.balance)

    @rule(
        index=who,
        key=keys,
        value=amounts,
        behavior=st.sampled_from(["cap", "reject"]),
        negative=st.booleans(),
    )
    def track_with_key(
        self, index: int, key: str, value: Decimal, behavior: str, negative: bool
    ) -> None:
        customer_id = self._customer(index)
        self._sync_clock()
        signed = -value if negative else value

        def send() -> object:
            return self.e.track(
                customer_id=customer_id,
                feature_id=WORK,
                value=signed,
                overage_behavior=behavior,
                idempotency_key=key,
            )

        if key in self.m.used_keys:
            self._expect_unchanged(send, "duplicate_idempotency_key")
            return
        if negative:
            send()
            self.m.refund(customer_id, value)
        elif behavior == "reject" and not self.m.fits(customer_id, value):
            self._expect_unchanged(send, "insufficient_balance")
            return  # a failed request never burns its key
        else:
            send()
            self.m.deduct(customer_id, value, reject=behavior == "reject")
        self.m.used_keys.add(key)

    @rule(index=who, amount=required)
    def check(self, index: int, amount: Decimal) -> None:
        customer_id = self._customer(index)
        self._sync_clock()
        response = self.e.check(customer_id=customer_id, feature_id=WORK, required_balance=amount)
        allowed, echoed, answering = self.m.check(customer_id, amount)
        assert response.allowed is allowed
        assert response.required_balance == echoed
        self._compare_answer(customer_id, answering, response.balance)

    @rule(index=who, amount=required)
    def check_and_send(self, index: int, amount: Decimal) -> None:
        customer_id = self._customer(index)
        self._sync_clock()
        _, echoed, answering = self.m.check(customer_id, amount)
        response = self.e.check(
            customer_id=customer_id, feature_id=WORK, required_balance=amount, send_event=True
        )
        expected = answering is not None and self.m.fits(customer_id, amount)
        if expected:
            self.m.deduct(customer_id, amount, reject=True)
        assert response.allowed is expected
        assert response.required_balance == echoed
        self._compare_answer(customer_id, answering, response.balance)

    @rule(amount=minutes)
    def advance(self, amount: int) -> None:
        self.clock.advance(minutes=amount)

    @precondition(lambda self: any(r.monthly for c in self.m.customers.values() for r in c.rows))
    @rule(offset_ms=st.sampled_from([-1, 0, 1]))
    def advance_to_a_boundary(self, offset_ms: int) -> None:
        """Land exactly on (or 1 ms either side of) the next monthly boundary."""
        now = self._sync_clock()
        upcoming = [
            r.next_reset()
            for c in self.m.customers.values()
            for r in c.rows
            if r.monthly and r.next_reset() is not None
        ]
        target = min(t for t in upcoming if t is not None) + timedelta(milliseconds=offset_ms)
        if target > now:
            self.clock.set(target)

    # comparisons ---------------------------------------------------------------------------

    def _compare_answer(self, customer_id: str, answering: str | None, balance: Any) -> None:
        if answering is None:
            assert balance is None
            return
        assert balance is not None
        assert balance.feature_id == answering
        c = self.m.customers[customer_id]
        assert balance.remaining == c.total(answering)

    def _compare_track_balance(self, customer_id: str, balance: Any) -> None:
        """Track answers with the own balance if the customer has one, else the pool's."""
        c = self.m.customers[customer_id]
        answering = WORK if c.has(WORK) else POOL if c.has(POOL) else None
        self._compare_answer(customer_id, answering, balance)

    # invariants ----------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        if self.model is None:
            return
        now = self._sync_clock()
        for customer_id, c in self.m.customers.items():
            got = self.e.customers.get(customer_id=customer_id).balances
            expected_features = {r.feature for r in c.rows}
            assert set(got) == expected_features, (customer_id, sorted(got))
            for feature in sorted(expected_features):
                balance = got[feature]
                rows = sorted((r for r in c.rows if r.feature == feature), key=lambda r: r.seq)
                granted = sum((r.granted for r in rows), Decimal(0))
                remaining = c.total(feature)
                where = (customer_id, feature, now.isoformat())
                assert balance.remaining == remaining, (*where, balance.remaining, remaining)
                assert balance.granted == granted, (*where, balance.granted, granted)
                assert balance.usage == granted - remaining, where
                # row by row (the breakdown is in id order = the model's creation order)
                breakdown = sorted(balance.breakdown, key=lambda b: int(b.id.removeprefix("bal_")))
                assert len(breakdown) == len(rows), where
                for row, part in zip(rows, breakdown, strict=True):
                    assert part.remaining >= 0, (*where, part)
                    assert part.usage <= part.included_grant, (*where, part)
                    assert part.included_grant == row.granted, (*where, part, row)
                    assert part.remaining == row.balance, (*where, part, row)
                    resets_at = part.reset.resets_at if part.reset is not None else None
                    expected_reset = row.next_reset()
                    assert resets_at == (None if expected_reset is None else _ms(expected_reset)), (
                        *where,
                        part,
                        row,
                    )

    @invariant()
    def ledger_verifies(self) -> None:
        if self.engine is not None:
            report = self.e.verify()
            assert report.ok, report.mismatches


def _ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


# --------------------------------------------------------------------------------------------
# SQLite: a fresh file per example (copied from one migrated template, to save the migration)
# --------------------------------------------------------------------------------------------

_template: list[Path] = []


def _sqlite_template() -> Path:
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="allotment-stateful-template-"))
        path = folder / "template.db"
        Allotment(f"sqlite:///{path}").close()
        _template.append(path)
    return _template[0]


class SQLiteMachine(EngineVersusModel):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="allotment-stateful-"))

    def _database_url(self) -> str:
        path = self.folder / "allotment.db"
        shutil.copyfile(_sqlite_template(), path)
        return f"sqlite:///{path}"

    def _drop_database(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


SQLITE_SETTINGS = settings(
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_units_a_pool_gives_back_are_rounded_half_even() -> None:
    """A path random runs seldom reach: a capped track drains everything, then a refund fills
    the pool and hands 0.02 credits back to the own balance as 0.02 / 3 units = 0.006667
    (half-even at 6 places, not 0.006666). Played through the same machine and invariants."""
    machine = SQLiteMachine()
    try:
        machine.setup(
            cost=Decimal(3),
            items=[(WORK, Decimal(5), True), (POOL, Decimal(7), False)],
            topup=Decimal(1),
            start=STARTS[0],
            topups=0,
        )
        machine.balances_match_the_model()
        machine.track_near_an_edge(index=0, reach="all", cents=2, behavior="cap")
        machine.balances_match_the_model()
        machine.track_near_an_edge(index=0, reach="pool_used", cents=0, behavior="cap")
        machine.balances_match_the_model()
        machine.ledger_verifies()
        work = machine.e.customers.get(customer_id=CUSTOMERS[0]).balances[WORK]
        assert work.remaining == Decimal("0.006667")
    finally:
        machine.teardown()


def test_engine_matches_model_on_sqlite() -> None:
    try:
        run_state_machine_as_test(SQLiteMachine, settings=SQLITE_SETTINGS)
    finally:
        for path in _template:
            shutil.rmtree(path.parent, ignore_errors=True)
        _template.clear()


# --------------------------------------------------------------------------------------------
# PostgreSQL: a throwaway database per example, dropped after it
# --------------------------------------------------------------------------------------------


def _admin_url() -> str:
    return POSTGRES_SERVER.replace("postgresql://", "postgresql+psycopg://", 1)


class PostgresMachine(EngineVersusModel):
    def __init__(self) -> None:
        super().__init__()
        self.database_name: str | None = None

    def _database_url(self) -> str:
        name = f"allotment_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        self.database_name = name
        url = make_url(POSTGRES_SERVER).set(database=name)
        return url.render_as_string(hide_password=False)

    def _drop_database(self) -> None:
        if self.database_name is None:
            return
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(
                    text(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
                )
        finally:
            admin.dispose()
        self.database_name = None


POSTGRES_SETTINGS = settings(SQLITE_SETTINGS, max_examples=15)


def test_engine_matches_model_on_postgresql() -> None:
    if not _postgres_reachable():
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER}: {_postgres_problem[-1]}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (ALLOTMENT_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    run_state_machine_as_test(PostgresMachine, settings=POSTGRES_SETTINGS)

"""The reference model the stateful test drives the engine against (see test_stateful_model.py).

Written from DESIGN.md's domain rules and the rules stated in the docstrings of the rollover,
reversal and test-clock features; it imports nothing from the engine. Amounts are `Decimal`
on the engine's 6-place scale; a value a pool covers only in part is carried as an exact
`Fraction` of units until the next row converts it (rounded half-even to the scale).

Rules modelled:
* rows of a customer: the main plan's monthly `work` grant and monthly or lifetime `pool`
  grant (each monthly one optionally with a rollover rule), add-on `topup` pool grants,
  loose grants (`balances.create`) of `work` or `pool` that expire at an instant, and the
  rollover pieces the monthly grants leave behind.
* deduction order: rollover pieces first (soonest expiry first; a tie between an own and a
  pool piece goes to the own one), then the feature's own rows before pool rows; within
  each, rows with a reset before rows without; sooner expiry first; main plan before add-on;
  oldest first. Pass 1 takes each row down to 0 (there is no pay-per-use here).
* a row that finishes the value pays `remaining x cost` rounded half-even to the scale; a row
  that runs dry pays its balance, which covers exactly `balance / cost` units.
* `cap` drops what does not fit; `reject` is all or nothing.
* a negative value refills in reverse deduction order, never above a row's granted amount.
* check: the own balance if it suffices, else the pool if the customer has one (required
  balance converted to credits), else the own balance (or no balance at all).
* monthly resets are lazy, anchored at the grant's creation instant, clamped per month.
* rollovers: at each boundary the positive leftover of a grant with a rule becomes a piece
  expiring N months later on the grant's own cycle (born at boundary k: expires at boundary
  k + N), or never; never-expiring pieces are one piece (a leftover adds to its balance and
  its granted amount). Then the grant's live pieces are capped together by `max` and/or
  floor(`max_percentage`% of the grant's granted) (the smaller), the oldest piece trimmed
  first (a trim lowers both balance and granted); a piece left empty at a boundary closes.
  A piece, like a loose grant, stops counting at the very instant it expires (before a
  boundary at the same instant is applied). Several boundaries passed unseen are applied one
  by one, in time order, with the expiries between them.
* reversal: each payment of the event goes back, last first, to the row that paid, at most
  up to its granted amount; nothing goes back to a row that has reset since (a new cycle
  began after the deduction), expired, or closed. A second reversal is refused.
* locks: a lock reserves like a `reject` track. A release, a lapse (at its `expires_at`, in
  time order with the boundaries and expiries around it) or a confirm at 0 gives the lock's
  payments back by the reversal's rule. A confirm keeps them. A confirm at a negative value
  (issue 10 item 8) gives them back by the same rule and then refunds the absolute value on
  top, as a negative track would (reverse deduction order, never above granted).
* each customer lives at its own present: its test clock's frozen instant, else the engine's.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

WORK = "work"
POOL = "pool"
SCALE = Decimal("0.000001")
NEVER = datetime.max.replace(tzinfo=UTC)


def add_months(anchor: datetime, months: int) -> datetime:
    """`anchor` moved by whole months, the day clamped to the target month's length."""
    index = anchor.month - 1 + months
    year, month = anchor.year + index // 12, index % 12 + 1
    return anchor.replace(year=year, month=month, day=min(anchor.day, _days_in(year, month)))


def _days_in(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def to_scale(amount: Fraction) -> Decimal:
    """An exact amount rounded half-even to 6 places (Python rounds a Fraction half-even)."""
    return Decimal(round(amount * 10**6)).scaleb(-6)


@dataclass(frozen=True)
class RolloverRule:
    max: Decimal | None = None
    max_percentage: Decimal | None = None
    expiry_months: int | None = None  # None: the pieces never expire

    def cap(self, granted: Decimal) -> Decimal | None:
        caps = [] if self.max is None else [self.max]
        if self.max_percentage is not None:
            share = granted * self.max_percentage / 100
            caps.append(share.quantize(SCALE, rounding=ROUND_DOWN))
        return min(caps) if caps else None

    def wire(self) -> dict[str, Any]:
        rule: dict[str, Any] = {}
        if self.max is not None:
            rule["max"] = str(self.max)
        if self.max_percentage is not None:
            rule["max_percentage"] = str(self.max_percentage)
        if self.expiry_months is None:
            rule["expiry_duration_type"] = "forever"
        else:
            rule["expiry_duration_type"] = "month"
            rule["expiry_duration_length"] = self.expiry_months
        return rule


@dataclass(frozen=True)
class MainItem:
    feature: str
    included: Decimal
    monthly: bool
    rollover: RolloverRule | None = None


@dataclass(eq=False)
class Row:
    """One balance row (grant) of a customer, in the model."""

    feature: str
    granted: Decimal
    balance: Decimal
    seq: int  # creation order, which is also the engine's id order for rows it creates eagerly
    created: datetime
    monthly: bool = False
    add_on: bool = False
    expires_at: datetime | None = None
    rule: RolloverRule | None = None  # a monthly row's rollover rule
    source: Row | None = None  # a rollover piece: the row it rolled over from
    cycles: int = 0  # boundaries applied so far (monthly rows)
    live: bool = True

    @property
    def is_rollover(self) -> bool:
        return self.source is not None

    def order_key(self) -> tuple[object, ...]:
        expires = self.expires_at or NEVER
        return (
            not self.is_rollover,
            expires if self.is_rollover else NEVER,
            self.feature == POOL,
            not self.monthly,
            expires,
            self.add_on,
            self.created,
            self.seq,
        )

    def boundary(self, k: int) -> datetime:
        return add_months(self.created, k)

    def next_reset(self) -> datetime | None:
        return self.boundary(self.cycles + 1) if self.monthly else None


@dataclass
class CustomerModel:
    rows: list[Row] = field(default_factory=list)
    frozen: datetime | None = None  # the test clock's instant, when it has one

    def ordered(self) -> list[Row]:
        return sorted(self.rows, key=Row.order_key)

    def of(self, feature: str) -> list[Row]:
        return [r for r in self.rows if r.feature == feature]

    def total(self, feature: str) -> Decimal:
        return sum((r.balance for r in self.of(feature)), Decimal(0))

    def has(self, feature: str) -> bool:
        return any(r.feature == feature for r in self.rows)

    def close(self, rows: Sequence[Row]) -> None:
        for row in rows:
            row.live = False
        self.rows = [r for r in self.rows if r.live]


@dataclass
class Payment:
    row: Row
    credits: Decimal
    cycle: int  # the row's cycle when it paid


@dataclass
class EventModel:
    event_id: str
    customer_id: str
    key: str | None
    payments: list[Payment]
    reversed: bool = False


class InsufficientBalance(Exception):
    pass


@dataclass
class Model:
    cost: Decimal
    main_items: list[MainItem]
    topup_included: Decimal
    customers: dict[str, CustomerModel] = field(default_factory=dict)
    used_keys: set[str] = field(default_factory=set)
    events: list[EventModel] = field(default_factory=list)
    seq: int = 0

    # rows -------------------------------------------------------------------------------

    def _row(self, feature: str, included: Decimal, now: datetime, **more: Any) -> Row:
        self.seq += 1
        return Row(feature, included, included, self.seq, now, **more)

    def create_customer(self, customer_id: str, now: datetime) -> None:
        model = CustomerModel()
        for item in self.main_items:
            rule = item.rollover if item.monthly else None
            row = self._row(item.feature, item.included, now, monthly=item.monthly, rule=rule)
            model.rows.append(row)
        self.customers[customer_id] = model

    def attach_topup(self, customer_id: str, now: datetime) -> None:
        row = self._row(POOL, self.topup_included, now, add_on=True)
        self.customers[customer_id].rows.append(row)

    def add_loose(
        self, customer_id: str, feature: str, included: Decimal, expires_at: datetime, now: datetime
    ) -> None:
        row = self._row(feature, included, now, expires_at=expires_at)
        self.customers[customer_id].rows.append(row)

    def cost_of(self, row: Row) -> Decimal:
        return self.cost if row.feature == POOL else Decimal(1)

    # time -------------------------------------------------------------------------------

    def advance(self, customer_id: str, now: datetime) -> None:
        """Play every expiry and boundary up to `now`, in time order; an expiry at the same
        instant as a boundary comes first (the piece no longer counts at that instant)."""
        c = self.customers[customer_id]
        while True:
            expiries = [r.expires_at for r in c.rows if r.expires_at and r.expires_at <= now]
            boundaries = [at for r in c.rows if (at := r.next_reset()) is not None and at <= now]
            if not expiries and not boundaries:
                return
            if expiries and (not boundaries or min(expiries) <= min(boundaries)):
                first = min(expiries)
                c.close([r for r in c.rows if r.expires_at == first])
                continue
            first = min(boundaries)
            for row in [r for r in c.rows if r.next_reset() == first]:
                self._boundary(c, row, first)

    def _boundary(self, c: CustomerModel, row: Row, at: datetime) -> None:
        leftover = max(row.balance, Decimal(0))
        row.cycles += 1
        row.balance = row.granted
        rule = row.rule
        if rule is None:
            return
        pieces = sorted((r for r in c.rows if r.source is row), key=lambda r: r.seq)
        if rule.expiry_months is None and pieces:
            (piece,) = pieces  # never-expiring pieces are one piece
            piece.balance += leftover
            piece.granted += leftover
        elif leftover > 0:
            expires = None
            if rule.expiry_months is not None:
                expires = row.boundary(row.cycles + rule.expiry_months)
            piece = self._row(row.feature, leftover, at, expires_at=expires, source=row)
            c.rows.append(piece)
            pieces.append(piece)
        cap = rule.cap(row.granted)
        if cap is not None:
            excess = sum((p.balance for p in pieces), Decimal(0)) - cap
            for piece in pieces:  # oldest first
                taken = min(piece.balance, max(excess, Decimal(0)))
                piece.balance -= taken
                piece.granted -= taken
                excess -= taken
        c.close([p for p in pieces if p.balance <= 0])

    # usage ------------------------------------------------------------------------------

    def _spread(self, customer_id: str, value: Decimal) -> tuple[list[Payment], Fraction]:
        """What pass 1 would take from each row, and the units left over."""
        remaining = Fraction(value)
        payments: list[Payment] = []
        for row in self.customers[customer_id].ordered():
            if remaining <= 0:
                break
            cost = Fraction(self.cost_of(row))
            need = to_scale(remaining * cost)
            take = min(max(row.balance, Decimal(0)), need)
            if take <= 0:
                continue
            payments.append(Payment(row, take, row.cycles))
            remaining = Fraction(0) if take == need else remaining - Fraction(take) / cost
        return payments, remaining

    def fits(self, customer_id: str, value: Decimal) -> bool:
        return self._spread(customer_id, value)[1] <= 0

    def deduct(self, customer_id: str, value: Decimal, *, reject: bool) -> list[Payment]:
        """Pass 1 in deduction order; `cap` drops the rest, `reject` refuses."""
        payments, remaining = self._spread(customer_id, value)
        if reject and remaining > 0:
            raise InsufficientBalance
        for payment in payments:
            payment.row.balance -= payment.credits
        return payments

    def refund(self, customer_id: str, value: Decimal) -> list[str]:
        """Refill in reverse deduction order, never above granted. Returns the features of the
        rows refilled, in order."""
        refilled: list[str] = []
        remaining = Fraction(value)
        for row in reversed(self.customers[customer_id].ordered()):
            if remaining <= 0:
                break
            room = row.granted - row.balance
            if room <= 0:
                continue
            cost = Fraction(self.cost_of(row))
            need = to_scale(remaining * cost)
            give = min(room, need)
            if give <= 0:
                continue
            row.balance += give
            refilled.append(row.feature)
            remaining = Fraction(0) if give == need else remaining - Fraction(give) / cost
        return refilled

    def give_back(self, payments: Sequence[Payment]) -> None:
        """A lock's release (or lapse, or confirm at 0): each payment, last first, back to the
        row that paid, at most up to its granted amount, unless the row has reset, expired or
        closed since."""
        for payment in reversed(payments):
            row = payment.row
            if row.live and row.cycles == payment.cycle:
                row.balance += min(payment.credits, max(row.granted - row.balance, Decimal(0)))

    def confirm_below_zero(
        self, customer_id: str, payments: Sequence[Payment], value: Decimal
    ) -> None:
        """A lock confirmed at `value` < 0: its event costs `value`. The reservation comes back
        (`give_back`), then `-value` is refunded on top by the rule of a negative track."""
        assert value < 0
        self.give_back(payments)
        self.refund(customer_id, -value)

    def record(
        self, event_id: str, customer_id: str, key: str | None, payments: list[Payment]
    ) -> None:
        self.events.append(EventModel(event_id, customer_id, key, payments))

    def reverse(self, event: EventModel) -> list[tuple[str, Decimal, Decimal]]:
        """(feature, amount paid, amount restored) per payment, last payment first."""
        assert not event.reversed
        event.reversed = True
        report: list[tuple[str, Decimal, Decimal]] = []
        for payment in reversed(event.payments):
            row = payment.row
            back = Decimal(0)
            if row.live and row.cycles == payment.cycle:
                back = min(payment.credits, max(row.granted - row.balance, Decimal(0)))
                row.balance += back
            report.append((row.feature, payment.credits, back))
        return report

    def check(self, customer_id: str, required: Decimal) -> tuple[bool, Decimal, str | None]:
        """(allowed, required balance echoed, feature id of the answering balance)."""
        c = self.customers[customer_id]
        if c.has(WORK) and c.total(WORK) >= required:
            return True, required, WORK
        if c.has(POOL):
            converted = required * self.cost
            return c.total(POOL) >= converted, converted, POOL
        return False, required, WORK if c.has(WORK) else None

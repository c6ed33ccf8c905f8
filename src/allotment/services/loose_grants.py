"""Use cases: grants without a plan (`balances.create/update/delete`): promotional or
goodwill credits, with an optional reset and expiry. Every change is a ledger entry
(`grant`, `adjustment`, `revoke`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from allotment.domain.amounts import MAX_AMOUNT, MAX_UNITS, parse_amount, to_units
from allotment.domain.catalog import Feature, FeatureType, parse_reset, validate_id
from allotment.domain.clock import LATEST_MS, from_ms
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant, deduction_sort_key, grant_ref
from allotment.domain.intervals import Interval
from allotment.domain.resets import first_reset_at
from allotment.domain.rollovers import RolloverRule, parse_rollover
from allotment.services import _subjects as subjects
from allotment.services import features as feature_service
from allotment.services._changes import apply_changes
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store

_MAX_REASON = 1000


def _moment(raw: object, field: str, now: datetime) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw <= LATEST_MS:
        raise invalid(f"{field} must be Unix milliseconds before the year 3000")
    moment = from_ms(raw)
    if moment <= now:
        raise invalid(f"{field} must be in the future")
    return moment


def _first_reset(raw: object, interval: Interval | None, now: datetime) -> datetime | None:
    """An explicit first reset boundary (Autumn's `next_reset_at`): it needs a reset, and must
    be in the customer's future (a past one would cycle the balance just created)."""
    if raw is None:
        return None
    if interval is None:
        raise invalid("next_reset_at needs a reset: a balance without one never resets")
    return _moment(raw, "next_reset_at", now)


def _rollover_rule(
    feature: Feature, interval: Interval | None, unlimited: object, rollover: object
) -> RolloverRule | None:
    if rollover is None:
        return None
    if not feature.consumable:
        raise invalid("rollover: a non-consumable feature has no leftover to roll over")
    if unlimited:
        raise invalid("rollover: an unlimited balance has nothing to roll over")
    return parse_rollover(rollover, interval)


def _schedule(grant: Grant, first_reset: datetime | None) -> Grant:
    """When the grant resets. Boundaries are counted from the cycle anchor; an explicit first
    boundary becomes the anchor, with `reset_index` -1 (the cycle before boundary 0), so later
    boundaries keep its day of the month and time of day."""
    if first_reset is None or grant.unlimited:
        return replace(grant, next_reset_at=first_reset_at(grant))
    return replace(grant, anchor_at=first_reset, reset_index=-1, next_reset_at=first_reset)


def create(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    feature_id: str,
    entity_id: str | None = None,
    included_grant: Decimal | int | None = None,
    unlimited: bool | None = None,
    reset: Mapping[str, Any] | None = None,
    expires_at: int | None = None,
    rollover: Mapping[str, Any] | None = None,
    next_reset_at: int | None = None,
    balance_id: str | None = None,
) -> None:
    feature = feature_service.require(store, feature_id)
    if feature.type is FeatureType.BOOLEAN:
        raise invalid("feature_id: a boolean feature has no balance")
    if unlimited is not None and not isinstance(unlimited, bool):
        raise invalid("unlimited must be true or false")
    if bool(unlimited) == (included_grant is not None):
        raise invalid("exactly one of included_grant and unlimited is required")
    included = 0 if unlimited else to_units(parse_amount(included_grant, "included_grant"))
    interval, count = parse_reset(reset)
    rule = _rollover_rule(feature, interval, unlimited, rollover)
    subject = subjects.resolve(store, customer_id, entity_id, lock=True)
    now = subject.customer.time(now)
    expiry = _moment(expires_at, "expires_at", now)
    if interval is not None and expiry is not None:
        raise invalid("a balance takes either reset or expires_at, not both")
    first_reset = _first_reset(next_reset_at, interval, now)
    external = validate_id(balance_id, "balance_id") if balance_id is not None else None
    customer = subject.customer.internal_id
    if external is not None and store.grants.external_id_used(customer, external):
        owner = subject.customer.customer_id
        raise AllotmentError(
            ErrorCode.DUPLICATE_BALANCE_ID,
            f"balance_id {external!r} is already in use for customer {owner!r}",
        )
    grant = Grant(
        id=0,
        customer_internal_id=customer,
        feature_id=feature.feature_id,
        granted=included,
        balance=0,
        unlimited=bool(unlimited),
        interval=interval,
        interval_count=count,
        anchor_at=now,
        expires_at=expiry,
        created_at=now,
        entity_internal_id=subject.entity_internal_id,
        external_id=external,
        rollover=rule,
    )
    grant_id = store.grants.insert(_schedule(grant, first_reset))
    if included:
        fresh = store.grants.active(customer, [feature.feature_id])
        apply_changes(store, fresh, [EntryRecord(grant_id, "grant", included, now)], now)


def _target(
    store: Store,
    now: datetime,
    customer_id: object,
    feature_id: object,
    entity_id: object,
    balance_id: object,
    interval: object,
) -> tuple[Grant, datetime]:
    """The grant a change names, and the customer's present (its test clock's time)."""
    names = ["one_off", *(i.value for i in Interval)]
    if interval is not None and interval not in names:
        raise invalid(f"interval must be one of {', '.join(names)}")
    feature = feature_service.require(store, feature_id)
    subject = subjects.resolve(store, customer_id, entity_id, lock=True)
    now = subject.customer.time(now)
    grants = [
        g
        for g in subjects.grants_of(store, subject, [feature.feature_id], now, True)
        if not g.is_rollover  # a rollover is changed through the grant it rolled over from
    ]
    if balance_id is not None:
        grants = [g for g in grants if balance_id in (g.external_id, grant_ref(g.id))]
    if interval is not None:
        grants = [g for g in grants if (g.interval.value if g.interval else "one_off") == interval]
    grants.sort(key=lambda g: deduction_sort_key(g, False, subject.entity_internal_id))
    if not grants:
        raise AllotmentError(
            ErrorCode.BALANCE_NOT_FOUND, f"no balance of {feature.feature_id!r} matches"
        )
    return grants[0], now


def _note(actor: str, reason: object) -> str:
    """Who made a manual change and why, kept on its ledger entries."""
    if reason is not None and (not isinstance(reason, str) or len(reason) > _MAX_REASON):
        raise invalid(f"reason must be a string of at most {_MAX_REASON} characters")
    return json.dumps({"by": actor, "reason": reason})


@dataclass(frozen=True)
class _Change:
    """What one balances.update asks of a row, parsed (fixed-point units)."""

    remaining: int | None
    add_to_balance: int | None
    usage: int | None
    included_grant: int | None

    def target(self, grant: Grant) -> tuple[int, int]:
        """The row's (granted, balance) afterwards. `included_grant` sets the granted amount
        and leaves the balance (Autumn: usage follows); `remaining` sets the balance,
        `add_to_balance` moves it, `usage` sets it to granted - usage, counted against the new
        granted amount when both are given."""
        granted = grant.granted if self.included_grant is None else self.included_grant
        if self.remaining is not None:
            return granted, self.remaining
        if self.add_to_balance is not None:
            return granted, grant.balance + self.add_to_balance
        if self.usage is not None:
            return granted, granted - self.usage
        return granted, grant.balance


_EXCLUSIVE = (
    ("remaining", "add_to_balance"),
    ("remaining", "usage"),
    ("add_to_balance", "usage"),
)


def _change(
    remaining: object, add_to_balance: object, usage: object, included_grant: object
) -> _Change:
    """Autumn's combinations: `included_grant` with any one of `remaining`, `add_to_balance`
    and `usage`; those three exclude each other."""
    given = {
        "remaining": remaining,
        "add_to_balance": add_to_balance,
        "usage": usage,
        "included_grant": included_grant,
    }
    if all(v is None for v in given.values()):
        raise invalid("one of remaining, add_to_balance, usage, included_grant is required")
    for first, second in _EXCLUSIVE:
        if given[first] is not None and given[second] is not None:
            raise invalid(f"{first} and {second} cannot be combined")
    units = {
        name: to_units(parse_amount(raw, name, allow_negative=name == "add_to_balance"))
        for name, raw in given.items()
        if raw is not None
    }
    return _Change(
        units.get("remaining"),
        units.get("add_to_balance"),
        units.get("usage"),
        units.get("included_grant"),
    )


def update(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    feature_id: str,
    entity_id: str | None = None,
    remaining: Decimal | int | None = None,
    add_to_balance: Decimal | int | None = None,
    usage: Decimal | int | None = None,
    included_grant: Decimal | int | None = None,
    balance_id: str | None = None,
    interval: str | None = None,
    reason: str | None = None,
    actor: str = "embedded",
) -> None:
    """Change one row (the first, in deduction order, that `balance_id` and `interval` name).
    Every change is one `adjustment` entry with who and why, of amount 0 when only the granted
    amount changed."""
    note = _note(actor, reason)
    change = _change(remaining, add_to_balance, usage, included_grant)
    grant, now = _target(store, now, customer_id, feature_id, entity_id, balance_id, interval)
    granted, balance = change.target(grant)
    if abs(balance) > MAX_UNITS:
        field = "add_to_balance" if change.add_to_balance is not None else "balance"
        raise invalid(f"{field}: the balance would pass {MAX_AMOUNT}, the largest allowed")
    if granted == grant.granted and balance == grant.balance:
        return
    if granted != grant.granted:
        store.grants.set_granted(grant.id, granted)
    entry = EntryRecord(grant.id, "adjustment", balance - grant.balance, now, note=note)
    apply_changes(store, [grant], [entry], now, {grant.id})


def delete(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    feature_id: str,
    entity_id: str | None = None,
    balance_id: str | None = None,
    interval: str | None = None,
    reason: str | None = None,
    actor: str = "embedded",
) -> None:
    note = _note(actor, reason)
    grant, now = _target(store, now, customer_id, feature_id, entity_id, balance_id, interval)
    # its rollovers go with it
    revoked = [grant, *store.grants.rollovers_of(grant.customer_internal_id, grant.id)]
    entries = [
        EntryRecord(g.id, "revoke", -g.balance, now, note=note) for g in revoked if g.balance
    ]
    apply_changes(store, revoked, entries, now)
    store.grants.deactivate([g.id for g in revoked])

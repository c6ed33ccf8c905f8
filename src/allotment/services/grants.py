"""Use cases: grants without a plan (`balances.create/update/delete`): promotional or
goodwill credits, with an optional reset and expiry. Every change is a ledger entry
(`grant`, `adjustment`, `revoke`)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from allotment.domain.amounts import MAX_AMOUNT, MAX_UNITS, parse_amount, to_units
from allotment.domain.catalog import FeatureType, parse_reset, validate_id
from allotment.domain.clock import LATEST_MS, from_ms
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant, deduction_sort_key
from allotment.domain.intervals import Interval
from allotment.domain.resets import first_reset_at
from allotment.domain.rollovers import parse_rollover
from allotment.services import features as feature_service
from allotment.services import subjects
from allotment.services.changes import apply_changes
from allotment.services.presenters import grant_ref
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


def create(
    store: Store,
    now: datetime,
    *,
    customer_id: object,
    feature_id: object,
    entity_id: object = None,
    included_grant: object = None,
    unlimited: object = None,
    reset: object = None,
    expires_at: object = None,
    rollover: object = None,
    balance_id: object = None,
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
    subject = subjects.resolve(store, customer_id, entity_id, lock=True)
    now = subject.customer.time(now)
    expiry = _moment(expires_at, "expires_at", now)
    if interval is not None and expiry is not None:
        raise invalid("a balance takes either reset or expires_at, not both")
    if unlimited and rollover is not None:
        raise invalid("rollover: an unlimited balance has nothing to roll over")
    rule = parse_rollover(rollover, interval)
    external = validate_id(balance_id, "balance_id") if balance_id is not None else None
    if external is not None and store.grants.external_id_used(external):
        raise AllotmentError(
            ErrorCode.DUPLICATE_BALANCE_ID, f"balance_id {external!r} already exists"
        )
    grant = Grant(
        id=0,
        customer_internal_id=subject.customer.internal_id,
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
    grant_id = store.grants.insert(replace(grant, next_reset_at=first_reset_at(grant)))
    if included:
        fresh = store.grants.active(subject.customer.internal_id, [feature.feature_id])
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


def update(
    store: Store,
    now: datetime,
    *,
    customer_id: object,
    feature_id: object,
    entity_id: object = None,
    remaining: object = None,
    add_to_balance: object = None,
    usage: object = None,
    included_grant: object = None,
    balance_id: object = None,
    interval: object = None,
    reason: object = None,
    actor: str = "embedded",
) -> None:
    note = _note(actor, reason)
    given = {
        k: v
        for k, v in (
            ("remaining", remaining),
            ("add_to_balance", add_to_balance),
            ("usage", usage),
            ("included_grant", included_grant),
        )
        if v is not None
    }
    if len(given) != 1:
        raise invalid("exactly one of remaining, add_to_balance, usage, included_grant is required")
    ((field, raw),) = given.items()
    amount = to_units(parse_amount(raw, field, allow_negative=field == "add_to_balance"))
    grant, now = _target(store, now, customer_id, feature_id, entity_id, balance_id, interval)
    if field == "remaining":
        delta = amount - grant.balance
    elif field == "add_to_balance":
        delta = amount
    elif field == "usage":
        delta = grant.granted - amount - grant.balance
    else:
        delta = amount - grant.granted
        store.grants.set_granted(grant.id, amount)
    if abs(grant.balance + delta) > MAX_UNITS:
        raise invalid(f"{field}: the balance would pass {MAX_AMOUNT}, the largest allowed")
    if delta:
        entry = EntryRecord(grant.id, "adjustment", delta, now, note=note)
        apply_changes(store, [grant], [entry], now)


def delete(
    store: Store,
    now: datetime,
    *,
    customer_id: object,
    feature_id: object,
    entity_id: object = None,
    balance_id: object = None,
    interval: object = None,
    reason: object = None,
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

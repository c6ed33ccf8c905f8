"""Use cases: check and track.

`track` is one atomic operation: the event row, one ledger entry per grant it touched and the
new balances are written in one transaction, under the customer's lock. `check` with
`send_event` is a track with `overage_behavior="reject"`: all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allotment import schemas
from allotment.domain.amounts import checked_units, from_units, parse_amount, to_units
from allotment.domain.balances import BalanceView, allows, resolve_check
from allotment.domain.catalog import Feature, FeatureType, cost_units_for
from allotment.domain.clock import from_ms
from allotment.domain.deduction import (
    Candidate,
    Deduction,
    OverageBehavior,
    plan_deduction,
    plan_refund,
)
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant, deduction_sort_key
from allotment.services import customers as customer_service
from allotment.services import features as feature_service
from allotment.services import presenters
from allotment.services.balances import apply_changes, live_grants
from allotment.storage.records import CustomerRecord, EntryRecord
from allotment.storage.store import Store


@dataclass(frozen=True)
class _Usage:
    """What one feature's part of a track did."""

    feature: Feature
    pools: list[Feature]
    grants: list[Grant]  # after the change
    deducted_from: list[str]  # feature ids of the grants that paid, in order


def _group(grants: Sequence[Grant]) -> dict[str, list[Grant]]:
    grouped: dict[str, list[Grant]] = {}
    for grant in grants:
        grouped.setdefault(grant.feature_id, []).append(grant)
    return grouped


def candidates_for(
    feature: Feature, pools: Sequence[Feature], grants: Sequence[Grant]
) -> list[Candidate]:
    """Every grant that can pay for `feature`, in deduction order."""
    costs = {feature.feature_id: 10**6}
    for pool in pools:
        cost = pool.cost_of(feature.feature_id)
        if cost is not None:
            costs.setdefault(pool.feature_id, cost)
    continuous = feature.type is FeatureType.METERED and not feature.consumable
    found = [
        Candidate(g, costs[g.feature_id], g.feature_id != feature.feature_id, continuous)
        for g in grants
        if g.feature_id in costs
    ]
    return sorted(found, key=lambda c: deduction_sort_key(c.grant, c.is_pool))


def _check_exact(value_units: int, candidates: Sequence[Candidate]) -> None:
    for candidate in candidates:
        if cost_units_for(abs(value_units), candidate.cost) is None:
            raise invalid(
                f"value x credit_cost of {candidate.grant.feature_id!r} has more than 6 decimal "
                "places"
            )


@dataclass(frozen=True)
class _Plan:
    feature: Feature
    pools: list[Feature]
    grants: list[Grant]
    changes: list[Deduction]
    unapplied: int


def _plan(
    store: Store,
    now: datetime,
    customer: CustomerRecord,
    feature: Feature,
    value_units: int,
    behavior: OverageBehavior,
) -> _Plan:
    """Work out what `value_units` of `feature` (negative: a refund) does, writing nothing but
    due resets. Raises `insufficient_balance` under reject."""
    pools = store.catalog.pools_containing(feature.feature_id)
    ids = [feature.feature_id, *(p.feature_id for p in pools)]
    grants = live_grants(store, customer.internal_id, ids, now, write=True)
    candidates = candidates_for(feature, pools, grants)
    _check_exact(value_units, candidates)
    if value_units > 0:
        changes, unapplied = plan_deduction(candidates, value_units, behavior)
    elif value_units < 0:
        changes, unapplied = plan_refund(candidates, -value_units)
    else:
        changes, unapplied = [], 0
    return _Plan(feature, pools, grants, changes, unapplied)


def _apply(store: Store, now: datetime, plan: _Plan, event_id: int) -> _Usage:
    kind = "refund" if any(c.credits < 0 for c in plan.changes) else "usage"
    entries = [
        EntryRecord(
            c.candidate.grant.id, kind, -c.credits, now, event_id, c.units, plan.feature.feature_id
        )
        for c in plan.changes
    ]
    after = apply_changes(store, plan.grants, entries, now)
    paid = [c.candidate.grant.feature_id for c in plan.changes]
    return _Usage(plan.feature, plan.pools, after, list(dict.fromkeys(paid)))


def _answering_balance(usage: _Usage) -> BalanceView | None:
    """Track's `balance`: the feature's own balance if the customer has one, else the pool
    that absorbed the deduction, else the first pool the customer has."""
    grouped = _group(usage.grants)
    if usage.feature.feature_id in grouped:
        return BalanceView(usage.feature.feature_id, tuple(grouped[usage.feature.feature_id]))
    for feature_id in [*usage.deducted_from, *(p.feature_id for p in usage.pools)]:
        if feature_id in grouped:
            return BalanceView(feature_id, tuple(grouped[feature_id]))
    return None


def _properties(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid("properties must be an object")
    return dict(raw)


def _timestamp(raw: object, now: datetime) -> datetime:
    if raw is None:
        return now
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < 10**14:
        raise invalid("timestamp must be Unix milliseconds")
    return from_ms(raw)


def _behavior(raw: object) -> OverageBehavior:
    if raw is None:
        return OverageBehavior.CAP
    try:
        return OverageBehavior(str(raw))
    except ValueError:
        raise invalid("overage_behavior must be one of cap, overflow, reject") from None


def _idempotency_key(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw or len(raw) > 512:
        raise invalid("idempotency_key must be a non-empty string of at most 512 characters")
    return raw


def _features_to_track(store: Store, feature_id: object, event_name: object) -> list[Feature]:
    if (feature_id is None) == (event_name is None):
        raise invalid("exactly one of feature_id and event_name is required")
    if feature_id is not None:
        feature = feature_service.require(store, feature_id)
        if feature.type is FeatureType.BOOLEAN:
            raise AllotmentError(ErrorCode.INVALID_REQUEST, "a boolean feature cannot be tracked")
        return [feature]
    if not isinstance(event_name, str) or not event_name:
        raise invalid("event_name must be a non-empty string")
    listening = [
        f
        for f in store.catalog.features_listening_to(event_name)
        if f.type is not FeatureType.BOOLEAN
    ]
    if not listening:
        raise AllotmentError(
            ErrorCode.FEATURE_NOT_FOUND, f"no feature listens to event_name {event_name!r}"
        )
    return listening


def track(
    store: Store,
    now: datetime,
    *,
    customer_id: object,
    feature_id: object = None,
    event_name: object = None,
    value: object = None,
    properties: object = None,
    timestamp: object = None,
    idempotency_key: object = None,
    overage_behavior: object = None,
) -> schemas.TrackResponse:
    amount = parse_amount(1 if value is None else value, "value", allow_negative=True)
    value_units = checked_units(to_units(amount), "value")
    behavior = _behavior(overage_behavior)
    if event_name is not None and behavior is OverageBehavior.REJECT:
        raise invalid("overage_behavior reject cannot be used with event_name")
    key = _idempotency_key(idempotency_key)
    props = _properties(properties)
    moment = _timestamp(timestamp, now)
    tracked = _features_to_track(store, feature_id, event_name)
    customer = customer_service.require(store, customer_id, lock=True)
    if key is not None and store.events.key_used(key):
        raise AllotmentError(
            ErrorCode.DUPLICATE_IDEMPOTENCY_KEY, f"idempotency_key {key!r} was already used"
        )
    plans = [_plan(store, now, customer, f, value_units, behavior) for f in tracked]
    event_id = store.events.insert(
        customer_internal_id=customer.internal_id,
        customer_id=customer.customer_id,
        feature_id=tracked[0].feature_id if event_name is None else None,
        event_name=event_name if isinstance(event_name, str) else None,
        value=value_units,
        properties=props,
        timestamp=moment,
        idempotency_key=key,
        now=now,
    )
    usages = [_apply(store, now, plan, event_id) for plan in plans]
    unapplied = sum(plan.unapplied for plan in plans)
    if unapplied:
        store.events.set_unapplied(event_id, unapplied)
    balance = _answering_balance(usages[0]) if len(usages) == 1 else None
    return schemas.TrackResponse(
        id=f"evt_{event_id}",
        customer_id=customer.customer_id,
        event_name=event_name if isinstance(event_name, str) else None,
        feature_id=tracked[0].feature_id if len(tracked) == 1 else None,
        value=amount,
        balance=presenters.balance(balance),
    )


def check(
    store: Store,
    now: datetime,
    *,
    customer_id: object,
    feature_id: object,
    required_balance: object = None,
    send_event: object = None,
    properties: object = None,
    write: bool,
) -> schemas.CheckResponse:
    required = parse_amount(
        1 if required_balance is None else required_balance, "required_balance", allow_negative=True
    )
    required_units = checked_units(to_units(required), "required_balance")
    if send_event is not None and not isinstance(send_event, bool):
        raise invalid("send_event must be true or false")
    feature = feature_service.require(store, feature_id)
    customer = customer_service.require(store, customer_id, lock=bool(send_event))
    if feature.type is FeatureType.BOOLEAN:
        if send_event:
            raise AllotmentError(
                ErrorCode.INVALID_REQUEST, "send_event cannot be used with a boolean feature"
            )
        grants = live_grants(store, customer.internal_id, [feature.feature_id], now, write=write)
        flag = presenters.flag(feature.feature_id, grants)
        return schemas.CheckResponse(
            allowed=flag is not None,
            customer_id=customer.customer_id,
            required_balance=required,
            balance=None,
            flag=flag,
        )
    pools = store.catalog.pools_containing(feature.feature_id)
    ids = [feature.feature_id, *(p.feature_id for p in pools)]
    grants = live_grants(store, customer.internal_id, ids, now, write=write)
    resolution = resolve_check(feature, required_units, pools, _group(grants))
    allowed = allows(resolution.view, resolution.required)
    if send_event and resolution.view is not None:
        allowed = _consume(store, now, customer, feature, required_units, properties)
        grants = live_grants(store, customer.internal_id, ids, now, write=write)
        view = BalanceView(
            resolution.view.feature_id, tuple(_group(grants)[resolution.view.feature_id])
        )
        resolution = type(resolution)(view, resolution.required, resolution.pool)
    elif send_event:
        allowed = False
    return schemas.CheckResponse(
        allowed=allowed,
        customer_id=customer.customer_id,
        required_balance=from_units(resolution.required),
        balance=presenters.balance(resolution.view),
        flag=None,
    )


def _consume(
    store: Store,
    now: datetime,
    customer: CustomerRecord,
    feature: Feature,
    required_units: int,
    properties: object,
) -> bool:
    """The send_event part of check: track with reject. A refusal is raised before anything
    is written, so it leaves nothing behind (not even the event row)."""
    try:
        track(
            store,
            now,
            customer_id=customer.customer_id,
            feature_id=feature.feature_id,
            value=from_units(required_units),
            properties=properties,
            overage_behavior=OverageBehavior.REJECT.value,
        )
    except AllotmentError as error:
        if error.code == ErrorCode.INSUFFICIENT_BALANCE:
            return False
        raise
    return True

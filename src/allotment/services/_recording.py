"""Recording usage: the atomic core of track, check-with-send_event and locks.

One event row, one ledger entry per grant touched, and the new balances are written in one
transaction, under the customer's lock. Everything is planned (and may be refused) before the
first write, so a refusal leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allotment.domain.balances import BalanceView
from allotment.domain.catalog import Feature, cost_units_for
from allotment.domain.deduction import (
    Candidate,
    Deduction,
    OverageBehavior,
    absorber,
    candidates_for,
    plan_deduction,
    plan_refund,
)
from allotment.domain.errors import invalid
from allotment.domain.grants import Grant
from allotment.services._changes import apply_changes
from allotment.services._subjects import Subject, grants_of
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store


@dataclass(frozen=True)
class Usage:
    """What one feature's part of a track did."""

    feature: Feature
    pools: list[Feature]
    grants: list[Grant]  # as they are afterwards
    paid_by: list[str]  # feature ids of the grants that paid, in order


@dataclass(frozen=True)
class _Plan:
    feature: Feature
    pools: list[Feature]
    grants: list[Grant]
    changes: list[Deduction]
    unapplied: int
    past_floor: frozenset[int] = frozenset()  # the grant overflow or a continuous use may overdraw


def group_by_feature(grants: Sequence[Grant]) -> dict[str, list[Grant]]:
    grouped: dict[str, list[Grant]] = {}
    for grant in grants:
        grouped.setdefault(grant.feature_id, []).append(grant)
    return grouped


def _check_exact(value_units: int, candidates: Sequence[Candidate]) -> None:
    for candidate in candidates:
        if cost_units_for(abs(value_units), candidate.cost) is None:
            raise invalid(
                f"value x credit_cost of {candidate.grant.feature_id!r} has more than 6 decimal "
                "places"
            )


def _plan(
    store: Store,
    now: datetime,
    subject: Subject,
    feature: Feature,
    value_units: int,
    behavior: OverageBehavior,
    loaded: list[Grant] | None = None,
) -> _Plan:
    pools = store.catalog.pools_containing(feature.feature_id)
    ids = [feature.feature_id, *(p.feature_id for p in pools)]
    grants = loaded if loaded is not None else grants_of(store, subject, ids, now, True)
    candidates = candidates_for(feature, pools, grants, subject.entity_internal_id)
    _check_exact(value_units, candidates)
    if value_units > 0:
        changes, unapplied = plan_deduction(candidates, value_units, behavior)
    elif value_units < 0:
        changes, unapplied = plan_refund(candidates, -value_units)
    else:
        changes, unapplied = [], 0
    taker = absorber(candidates, behavior) if value_units > 0 else None
    past = frozenset([taker.grant.id]) if taker is not None else frozenset()
    return _Plan(feature, pools, grants, changes, unapplied, past)


def _after(plan: _Plan) -> list[Grant]:
    """The plan's grants as its changes leave them (nothing written)."""
    deltas: dict[int, int] = {}
    for change in plan.changes:
        grant_id = change.candidate.grant.id
        deltas[grant_id] = deltas.get(grant_id, 0) - change.credits
    return [
        g.with_balance(g.balance + deltas[g.id]) if deltas.get(g.id) else g for g in plan.grants
    ]


def _apply(store: Store, now: datetime, plan: _Plan, event_id: int) -> Usage:
    entries = [
        EntryRecord(
            c.candidate.grant.id,
            "refund" if c.credits < 0 else "usage",
            -c.credits,
            now,
            event_id,
            c.units,
            plan.feature.feature_id,
        )
        for c in plan.changes
    ]
    after = apply_changes(store, plan.grants, entries, now, plan.past_floor)
    paid = [c.candidate.grant.feature_id for c in plan.changes]
    return Usage(plan.feature, plan.pools, after, list(dict.fromkeys(paid)))


def record(
    store: Store,
    now: datetime,
    subject: Subject,
    features: Sequence[Feature],
    value_units: int,
    behavior: OverageBehavior,
    *,
    event_name: str | None = None,
    properties: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    idempotency_key: str | None = None,
    loaded: list[Grant] | None = None,
) -> tuple[int, list[Usage]]:
    """Apply `value_units` (negative: a refund) of each feature to the subject. Raises
    `insufficient_balance` under reject before writing anything. Returns the event id.
    `loaded`: the subject's grants (at least those of the features and their pools) as they
    stand in this transaction under the customer's lock.
    Several features (an event name several features listen to) are planned one after the
    other, each on the balances the previous ones leave: two features drawing on one credit
    system never plan the same credits twice."""
    if loaded is None and len(features) > 1:
        ids = {f.feature_id for f in features}
        ids.update(
            p.feature_id for f in features for p in store.catalog.pools_containing(f.feature_id)
        )
        loaded = grants_of(store, subject, sorted(ids), now, True)
    plans = []
    for feature in features:
        plan = _plan(store, now, subject, feature, value_units, behavior, loaded)
        plans.append(plan)
        if len(features) > 1:
            loaded = _after(plan)
    props = dict(properties or {})
    if subject.entity is not None:
        props.setdefault("entity_id", subject.entity.entity_id)
    event_id = store.events.insert(
        customer_internal_id=subject.customer.internal_id,
        customer_id=subject.customer.customer_id,
        feature_id=features[0].feature_id if event_name is None else None,
        event_name=event_name,
        value=value_units,
        properties=props,
        timestamp=timestamp or now,
        idempotency_key=idempotency_key,
        now=now,
    )
    usages = [_apply(store, now, plan, event_id) for plan in plans]
    unapplied = sum(plan.unapplied for plan in plans)
    if unapplied:
        store.events.set_unapplied(event_id, unapplied)
    return event_id, usages


def deduct_more(
    store: Store, now: datetime, subject: Subject, feature: Feature, value_units: int, event_id: int
) -> int:
    """Add `value_units` more usage (cap; negative: a refund) to an existing event (a lock
    confirmed higher, or below zero). Returns the units that did not fit (not applied)."""
    plan = _plan(store, now, subject, feature, value_units, OverageBehavior.CAP)
    _apply(store, now, plan, event_id)
    return plan.unapplied


def answering_balance(usage: Usage) -> BalanceView | None:
    """Track's `balance` (Autumn): the feature's own balance while it absorbed some of the
    value (or nothing paid at all); the pool that paid when the own balance absorbed none of
    it (it was already empty); with no own balance, the pool that absorbed the deduction,
    else the first pool the subject has."""
    grouped = group_by_feature(usage.grants)
    own = usage.feature.feature_id
    if own in grouped and (not usage.paid_by or own in usage.paid_by):
        return BalanceView(own, tuple(grouped[own]))
    for feature_id in [*usage.paid_by, *(p.feature_id for p in usage.pools), own]:
        if feature_id in grouped:
            return BalanceView(feature_id, tuple(grouped[feature_id]))
    return None

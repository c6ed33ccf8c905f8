"""Use cases: customers, and the plans attached to them (billing.attach without prices)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from allotment.domain.catalog import Feature, Plan, validate_id
from allotment.domain.clock import LATEST_MS, from_ms, to_ms
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.domain.resets import first_reset_at
from allotment.services import _paging as paging
from allotment.services import plans as plan_service
from allotment.services._changes import apply_changes
from allotment.services._live_grants import live_grants
from allotment.storage.records import CustomerPlanRecord, CustomerRecord, EntryRecord
from allotment.storage.store import Store


@dataclass(frozen=True)
class CustomerView:
    """A customer as a use case answers it: the record, its attached plans (with their
    versions), its live grants and the features they are for (the session presents it)."""

    record: CustomerRecord
    env: str
    attached: tuple[tuple[CustomerPlanRecord, Plan], ...]
    grants: tuple[Grant, ...]
    features: Mapping[str, Feature]


@dataclass(frozen=True)
class Attached:
    """billing.attach: the plan is attached to the customer (or its entity)."""

    customer_id: str
    entity_id: str | None


@dataclass(frozen=True)
class ClockMoved:
    """A sandbox test clock advanced: the customer's frozen time, Unix ms."""

    customer_id: str
    frozen_time: int


def require(store: Store, customer_id: object, *, lock: bool = False) -> CustomerRecord:
    identifier = validate_id(customer_id, "customer_id")
    record = store.customers.get(identifier, lock=lock)
    if record is None:
        raise AllotmentError(ErrorCode.CUSTOMER_NOT_FOUND, f"customer {identifier!r} not found")
    return record


def require_internal(store: Store, internal_id: int, *, lock: bool = False) -> CustomerRecord:
    record = store.customers.get_internal(internal_id, lock=lock)
    if record is None:
        raise AllotmentError(ErrorCode.CUSTOMER_NOT_FOUND, "customer not found")
    return record


_MAX_TEXT = 2048


def _text(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"{field} must be a string")
    if value is not None and len(value) > _MAX_TEXT:
        raise invalid(f"{field} must be at most {_MAX_TEXT} characters")
    return value


def _metadata(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid("metadata must be an object")
    return dict(value)


def view(store: Store, record: CustomerRecord, now: datetime, *, write: bool) -> CustomerView:
    now = record.time(now)
    grants = live_grants(store, record.internal_id, None, now, write=write)
    attachments = store.customers.active_plans(record.internal_id)
    versions = store.plans.plans_by_internal_id([a.plan_internal_id for a in attachments])
    features = {
        f.feature_id: f for f in store.catalog.features(list({g.feature_id for g in grants}))
    }
    attached = tuple((a, versions[a.plan_internal_id]) for a in attachments)
    return CustomerView(record, store.env, attached, tuple(grants), features)


def get_or_create(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    name: str | None = None,
    email: str | None = None,
    fingerprint: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    write: bool,
) -> CustomerView:
    """Return the customer, creating it (with every `auto_enable` plan attached) if new."""
    identifier = validate_id(customer_id, "customer_id")
    record = store.customers.get(identifier)
    if record is None:
        record = store.customers.insert(
            identifier,
            _text(name, "name"),
            _text(email, "email"),
            _text(fingerprint, "fingerprint"),
            _metadata(metadata),
            now,
        )
        for plan in store.plans.latest_plans():
            if plan.auto_enable:
                _attach(store, record, plan, now)
    return view(store, record, now, write=write)


def get(store: Store, now: datetime, customer_id: str, *, write: bool) -> CustomerView:
    return view(store, require(store, customer_id), now, write=write)


def update(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    name: str | None = None,
    email: str | None = None,
    fingerprint: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> CustomerView:
    record = require(store, customer_id, lock=True)
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _text(name, "name")
    if email is not None:
        values["email"] = _text(email, "email")
    if fingerprint is not None:
        values["fingerprint"] = _text(fingerprint, "fingerprint")
    if metadata is not None:
        values["metadata"] = _metadata(metadata)
    if values:
        store.customers.update(record.internal_id, values)
    return view(store, require(store, record.customer_id), now, write=True)


def delete(store: Store, now: datetime, customer_id: str) -> None:
    """Revoke every grant (with ledger entries) and free the customer's id."""
    record = require(store, customer_id, lock=True)
    now = record.time(now)
    grants = live_grants(store, record.internal_id, None, now, write=True)
    entries = [EntryRecord(g.id, "revoke", -g.balance, now) for g in grants if g.balance]
    apply_changes(store, grants, entries, now)
    store.grants.deactivate([g.id for g in grants])
    store.customers.end_plans([a.id for a in store.customers.active_plans(record.internal_id)], now)
    for entity in store.entities.of_customer(record.internal_id):
        store.entities.delete(entity.internal_id)
    store.customers.delete(record.internal_id)


def advance_test_clock(
    store: Store, now: datetime, *, customer_id: str, frozen_time: int
) -> ClockMoved:
    """Sandbox only: freeze the customer's time at `frozen_time` (Unix ms). From then on
    every operation on the customer happens at that instant (resets, rollovers, expiries and
    locks lapse as they would have), until the clock is advanced again. Time only moves
    forward: a time before the customer's present is refused."""
    if store.env == "live":
        raise AllotmentError(ErrorCode.INVALID_REQUEST, "test clocks exist only in sandbox")
    frozen_time = _unix_ms(frozen_time)
    record = require(store, customer_id, lock=True)
    present_ms = to_ms(record.time(now))
    if frozen_time < present_ms:
        raise invalid(
            f"frozen_time: time only moves forward; customer {record.customer_id!r} is at "
            f"{present_ms}"
        )
    store.customers.update(record.internal_id, {"clock_at": frozen_time})
    # apply what the new present makes due (resets, rollovers, expiries, lapsed locks)
    live_grants(store, record.internal_id, None, from_ms(frozen_time), write=True)
    return ClockMoved(record.customer_id, frozen_time)


def _unix_ms(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("frozen_time must be Unix milliseconds")
    if not 0 < value <= LATEST_MS:
        raise invalid("frozen_time must be Unix milliseconds before the year 3000")
    return value


def list_page(
    store: Store, now: datetime, *, start_cursor: str | None = None, limit: int | None = None
) -> tuple[list[CustomerView], str | None]:
    size = paging.limit(limit)
    after = paging.cursor(start_cursor) or 0
    records = store.customers.page(after, size + 1)
    more = len(records) > size
    records = records[:size]
    page = [view(store, r, now, write=True) for r in records]
    cursor = str(records[-1].internal_id) if more and records else None
    return page, cursor


def attach(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    plan_id: str,
    version: int | None = None,
    entity_id: str | None = None,
) -> Attached:
    record = require(store, customer_id, lock=True)
    now = record.time(now)
    plan = plan_service.require(store, plan_id, version)
    if plan.archived:
        raise AllotmentError(ErrorCode.INVALID_REQUEST, f"plan {plan.plan_id!r} is archived")
    entity_internal_id = None
    if entity_id is not None:
        entity = store.entities.get(record.internal_id, validate_id(entity_id, "entity_id"))
        if entity is None:
            raise AllotmentError(ErrorCode.ENTITY_NOT_FOUND, f"entity {entity_id!r} not found")
        entity_internal_id = entity.internal_id
    _attach(store, record, plan, now, entity_internal_id)
    return Attached(record.customer_id, entity_id)


def _attach(
    store: Store,
    record: CustomerRecord,
    plan: Plan,
    now: datetime,
    entity_internal_id: int | None = None,
) -> None:
    """Attach `plan` to the customer (or one of its entities): a main plan replaces the main
    plan of the same group; add-ons stack. The replaced plan's grants are revoked with ledger
    entries."""
    assert plan.internal_id is not None
    if not plan.add_on:
        attachments = store.customers.active_plans(record.internal_id, entity_internal_id)
        versions = store.plans.plans_by_internal_id([a.plan_internal_id for a in attachments])
        replaced = [
            a
            for a in attachments
            if not versions[a.plan_internal_id].add_on
            and versions[a.plan_internal_id].group == plan.group
        ]
        if any(a.plan_internal_id == plan.internal_id for a in replaced):
            raise AllotmentError(
                ErrorCode.PLAN_ALREADY_ATTACHED,
                f"customer {record.customer_id!r} already has plan {plan.plan_id!r}",
            )
        _revoke(store, record, [a.id for a in replaced], now)
    attachment_id = store.customers.attach_plan(
        record.internal_id, plan.internal_id, plan.plan_id, now, entity_internal_id
    )
    entries: list[EntryRecord] = []
    for item in plan.items:
        grant = Grant(
            id=0,
            customer_internal_id=record.internal_id,
            entity_internal_id=entity_internal_id,
            feature_id=item.feature_id,
            granted=item.included,
            balance=0,
            unlimited=item.unlimited,
            interval=item.reset,
            interval_count=item.interval_count,
            anchor_at=now,
            plan_id=plan.plan_id,
            customer_plan_id=attachment_id,
            add_on=plan.add_on,
            created_at=now,
            rollover=item.rollover,
        )
        grant_id = store.grants.insert(replace(grant, next_reset_at=first_reset_at(grant)))
        if item.included:
            entries.append(EntryRecord(grant_id, "grant", item.included, now))
    fresh = store.grants.active(record.internal_id, None)
    apply_changes(store, fresh, entries, now)


def _revoke(store: Store, record: CustomerRecord, attachment_ids: list[int], now: datetime) -> None:
    if not attachment_ids:
        return
    grants = [
        g
        for g in live_grants(store, record.internal_id, None, now, write=True)
        if g.customer_plan_id in attachment_ids
    ]
    entries = [EntryRecord(g.id, "revoke", -g.balance, now) for g in grants if g.balance]
    apply_changes(store, grants, entries, now)
    store.grants.deactivate([g.id for g in grants])
    store.customers.end_plans(attachment_ids, now)

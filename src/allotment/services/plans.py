"""Use cases: plans and their versions.

Editing the items of a plan that a customer already has creates a new version; customers keep
the version they attached (their grants were copied from it). A plan no customer has is
edited in place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from allotment.domain.catalog import Plan, parse_plan_items, parse_plan_price, validate_id
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.storage.store import Store

Items = Sequence[Mapping[str, Any]]


def _metadata(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value) if value is not None else {}


def _items(store: Store, raw: Items | None) -> Any:
    features = {f.feature_id: f for f in store.catalog.features()}
    return parse_plan_items(raw, features)


def create(
    store: Store,
    now: datetime,
    *,
    plan_id: str,
    name: str | None = None,
    description: str | None = None,
    group: str | None = None,
    add_on: bool | None = None,
    auto_enable: bool | None = None,
    items: Items | None = None,
    metadata: Mapping[str, Any] | None = None,
    price: Mapping[str, Any] | None = None,
) -> Plan:
    identifier = validate_id(plan_id, "plan_id")
    plan = Plan(
        price=parse_plan_price(price),
        plan_id=identifier,
        name=name,
        version=1,
        items=_items(store, items),
        description=description,
        group=group,
        add_on=bool(add_on),
        auto_enable=bool(auto_enable),
        metadata=_metadata(metadata),
        created_at=now,
    )
    if store.plans.latest_plan(identifier) is not None:
        raise AllotmentError(ErrorCode.PLAN_ALREADY_EXISTS, f"plan {identifier!r} already exists")
    internal_id = store.plans.insert_plan(plan, now)
    return replace(plan, internal_id=internal_id)


def require(store: Store, plan_id: object, version: object = None) -> Plan:
    identifier = validate_id(plan_id, "plan_id")
    if version is None:
        plan = store.plans.latest_plan(identifier)
    else:
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**31:
            raise invalid("version must be a positive integer")
        plan = store.plans.plan_version(identifier, version)
    if plan is None:
        raise AllotmentError(ErrorCode.PLAN_NOT_FOUND, f"plan {identifier!r} not found")
    return plan


def get(store: Store, plan_id: str, version: int | None = None) -> Plan:
    return require(store, plan_id, version)


def list_all(store: Store, *, include_archived: bool = False) -> list[Plan]:
    return store.plans.latest_plans(include_archived=include_archived)


def update(
    store: Store,
    now: datetime,
    *,
    plan_id: str,
    name: str | None = None,
    description: str | None = None,
    group: str | None = None,
    add_on: bool | None = None,
    auto_enable: bool | None = None,
    items: Items | None = None,
    metadata: Mapping[str, Any] | None = None,
    archived: bool | None = None,
    price: Mapping[str, Any] | None = None,
) -> Plan:
    current = require(store, plan_id)
    changed = current
    if price is not None:
        changed = replace(changed, price=parse_plan_price(price))
    if name is not None:
        changed = replace(changed, name=name)
    if description is not None:
        changed = replace(changed, description=description)
    if group is not None:
        changed = replace(changed, group=group)
    if add_on is not None:
        changed = replace(changed, add_on=add_on)
    if auto_enable is not None:
        changed = replace(changed, auto_enable=auto_enable)
    if metadata is not None:
        changed = replace(changed, metadata=_metadata(metadata))
    if archived is not None:
        changed = replace(changed, archived=archived)
    if items is not None:
        changed = replace(changed, items=_items(store, items))
    assert current.internal_id is not None
    in_use = store.plans.plan_has_customers(current.plan_id, current.internal_id)
    if in_use and (changed.items, changed.price) != (current.items, current.price):
        versioned = replace(changed, version=current.version + 1, created_at=now)
        internal_id = store.plans.insert_plan(versioned, now)
        return replace(versioned, internal_id=internal_id)
    store.plans.replace_plan(current.internal_id, changed)
    return changed


def delete(store: Store, plan_id: str) -> None:
    current = require(store, plan_id)
    if store.plans.plan_has_customers(current.plan_id):
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST,
            f"plan {current.plan_id!r} is attached to customers; archive it instead",
        )
    store.plans.delete_plan(current.plan_id)

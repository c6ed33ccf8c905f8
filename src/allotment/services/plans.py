"""Use cases: plans and their versions.

Editing the items of a plan that a customer already has creates a new version; customers keep
the version they attached (their grants were copied from it). A plan no customer has is
edited in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from allotment import wire as schemas
from allotment.domain.catalog import Plan, parse_plan_items, parse_plan_price, validate_id
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.storage.store import Store
from allotment.wire import present as presenters


def _optional_text(value: object, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid(f"{field} must be a string")
    return value


def _flag(value: object, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(f"{field} must be true or false")
    return value


def _metadata(value: object) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid("metadata must be an object")
    return dict(value)


def _items(store: Store, raw: object) -> Any:
    features = {f.feature_id: f for f in store.catalog.features()}
    return parse_plan_items(raw, features)


def create(
    store: Store,
    now: datetime,
    *,
    plan_id: object,
    name: object = None,
    description: object = None,
    group: object = None,
    add_on: object = None,
    auto_enable: object = None,
    items: object = None,
    metadata: object = None,
    price: object = None,
) -> schemas.Plan:
    identifier = validate_id(plan_id, "plan_id")
    plan = Plan(
        price=parse_plan_price(price),
        plan_id=identifier,
        name=_optional_text(name, "name"),
        version=1,
        items=_items(store, items),
        description=_optional_text(description, "description"),
        group=_optional_text(group, "group"),
        add_on=_flag(add_on, "add_on"),
        auto_enable=_flag(auto_enable, "auto_enable"),
        metadata=_metadata(metadata),
        created_at=now,
    )
    if store.plans.latest_plan(identifier) is not None:
        raise AllotmentError(ErrorCode.PLAN_ALREADY_EXISTS, f"plan {identifier!r} already exists")
    internal_id = store.plans.insert_plan(plan, now)
    return presenters.plan(replace(plan, internal_id=internal_id), store.env)


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


def get(store: Store, plan_id: object, version: object = None) -> schemas.Plan:
    return presenters.plan(require(store, plan_id, version), store.env)


def list_all(store: Store, *, include_archived: bool = False) -> list[schemas.Plan]:
    found = store.plans.latest_plans(include_archived=include_archived)
    return [presenters.plan(p, store.env) for p in found]


def update(
    store: Store,
    now: datetime,
    *,
    plan_id: object,
    name: object = None,
    description: object = None,
    group: object = None,
    add_on: object = None,
    auto_enable: object = None,
    items: object = None,
    metadata: object = None,
    archived: object = None,
    price: object = None,
) -> schemas.Plan:
    current = require(store, plan_id)
    changed = current
    if price is not None:
        changed = replace(changed, price=parse_plan_price(price))
    if name is not None:
        changed = replace(changed, name=_optional_text(name, "name"))
    if description is not None:
        changed = replace(changed, description=_optional_text(description, "description"))
    if group is not None:
        changed = replace(changed, group=_optional_text(group, "group"))
    if add_on is not None:
        changed = replace(changed, add_on=_flag(add_on, "add_on"))
    if auto_enable is not None:
        changed = replace(changed, auto_enable=_flag(auto_enable, "auto_enable"))
    if metadata is not None:
        changed = replace(changed, metadata=_metadata(metadata))
    if archived is not None:
        changed = replace(changed, archived=_flag(archived, "archived"))
    if items is not None:
        changed = replace(changed, items=_items(store, items))
    assert current.internal_id is not None
    in_use = store.plans.plan_has_customers(current.plan_id, current.internal_id)
    if in_use and (changed.items, changed.price) != (current.items, current.price):
        versioned = replace(changed, version=current.version + 1, created_at=now)
        internal_id = store.plans.insert_plan(versioned, now)
        return presenters.plan(replace(versioned, internal_id=internal_id), store.env)
    store.plans.replace_plan(current.internal_id, changed)
    return presenters.plan(changed, store.env)


def delete(store: Store, plan_id: object) -> None:
    current = require(store, plan_id)
    if store.plans.plan_has_customers(current.plan_id):
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST,
            f"plan {current.plan_id!r} is attached to customers; archive it instead",
        )
    store.plans.delete_plan(current.plan_id)

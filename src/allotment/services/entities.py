"""Use cases: entities (seats, workspaces, ... inside a customer).

Creating an entity tracks +1 of its feature on the customer (a continuous-use feature such as
seats: usage may exceed the grant under cap, as Autumn does); deleting it gives that seat back
and revokes the entity's own grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from allotment.domain.amounts import SCALE
from allotment.domain.catalog import Feature, FeatureType, Plan, validate_id
from allotment.domain.deduction import OverageBehavior
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.services import _paging as paging
from allotment.services import customers as customer_service
from allotment.services import features as feature_service
from allotment.services._changes import apply_changes
from allotment.services._live_grants import live_grants
from allotment.services._recording import record
from allotment.services._subjects import Subject, require_entity
from allotment.storage.records import (
    CustomerPlanRecord,
    CustomerRecord,
    EntityRecord,
    EntryRecord,
)
from allotment.storage.store import Store


@dataclass(frozen=True)
class EntityView:
    """An entity as a use case answers it: the entity, its customer, the plans attached to the
    entity (with their versions), the grants it sees and their features (the session presents
    it)."""

    entity: EntityRecord
    customer: CustomerRecord
    env: str
    attached: tuple[tuple[CustomerPlanRecord, Plan], ...]
    grants: tuple[Grant, ...]
    features: Mapping[str, Feature]


def _find(
    store: Store, entity_id: str, customer_id: str | None, *, lock: bool
) -> tuple[CustomerRecord, EntityRecord]:
    if customer_id is not None:
        customer = customer_service.require(store, customer_id, lock=lock)
        return customer, require_entity(store, customer, entity_id)
    identifier = validate_id(entity_id, "entity_id")
    found = store.entities.find(identifier)
    if not found:
        raise AllotmentError(ErrorCode.ENTITY_NOT_FOUND, f"entity {identifier!r} not found")
    if len(found) > 1:
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST,
            f"several customers have an entity {identifier!r}: pass customer_id",
        )
    entity = found[0]
    return customer_service.require_internal(store, entity.customer_internal_id, lock=lock), entity


def view(
    store: Store, customer: CustomerRecord, entity: EntityRecord, now: datetime, *, write: bool
) -> EntityView:
    now = customer.time(now)
    subject = Subject(customer, entity)
    grants = tuple(
        g
        for g in live_grants(store, customer.internal_id, None, now, write=write)
        if subject.sees(g)
    )
    features = {
        f.feature_id: f for f in store.catalog.features(list({g.feature_id for g in grants}))
    }
    attachments = store.customers.active_plans(customer.internal_id, entity.internal_id)
    versions = store.plans.plans_by_internal_id([a.plan_internal_id for a in attachments])
    attached = tuple((a, versions[a.plan_internal_id]) for a in attachments)
    return EntityView(entity, customer, store.env, attached, grants, features)


def _name(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise invalid("name must be a string")
    return value


def create(
    store: Store,
    now: datetime,
    *,
    customer_id: str | None,
    entity_id: str,
    feature_id: str | None = None,
    name: str | None = None,
) -> EntityView:
    """`customer_id` None is refused as `customers.require` refuses it, after the entity's
    own fields are checked."""
    identifier = validate_id(entity_id, "entity_id")
    name = _name(name)
    feature = feature_service.require(store, feature_id) if feature_id is not None else None
    if feature is not None and (feature.type is not FeatureType.METERED or feature.consumable):
        raise invalid("feature_id of an entity must be a non-consumable metered feature")
    customer = customer_service.require(store, customer_id, lock=True)
    now = customer.time(now)
    if store.entities.get(customer.internal_id, identifier) is not None:
        raise AllotmentError(
            ErrorCode.ENTITY_ALREADY_EXISTS,
            f"entity {identifier!r} already exists for customer {customer.customer_id!r}",
        )
    entity = store.entities.insert(
        customer.internal_id, identifier, name, feature.feature_id if feature else None, now
    )
    if feature is not None:
        record(
            store,
            now,
            Subject(customer),
            [feature],
            SCALE,
            OverageBehavior.CAP,
            properties={"entity_id": identifier, "reason": "entity created"},
        )
    return view(store, customer, entity, now, write=True)


def get(
    store: Store, now: datetime, *, entity_id: str, customer_id: str | None = None, write: bool
) -> EntityView:
    customer, entity = _find(store, entity_id, customer_id, lock=False)
    return view(store, customer, entity, now, write=write)


def update(
    store: Store,
    now: datetime,
    *,
    entity_id: str,
    customer_id: str | None = None,
    name: str | None = None,
) -> EntityView:
    customer, entity = _find(store, entity_id, customer_id, lock=True)
    name = _name(name)
    if name is not None:
        store.entities.rename(entity.internal_id, name)
        customer, entity = _find(store, entity.entity_id, customer.customer_id, lock=False)
    return view(store, customer, entity, now, write=True)


def list_page(
    store: Store,
    now: datetime,
    *,
    customer_id: str | None = None,
    start_cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[EntityView], str | None]:
    size = paging.limit(limit)
    after = paging.cursor(start_cursor) or 0
    owner = customer_service.require(store, customer_id) if customer_id is not None else None
    found = store.entities.page(owner.internal_id if owner else None, after, size + 1)
    more = len(found) > size
    found = found[:size]
    page = []
    for entity in found:
        customer = owner or customer_service.require_internal(store, entity.customer_internal_id)
        page.append(view(store, customer, entity, now, write=True))
    return page, (str(found[-1].internal_id) if more and found else None)


def delete(store: Store, now: datetime, *, entity_id: str, customer_id: str | None = None) -> None:
    customer, entity = _find(store, entity_id, customer_id, lock=True)
    now = customer.time(now)
    own = [
        g
        for g in live_grants(store, customer.internal_id, None, now, write=True)
        if g.entity_internal_id == entity.internal_id
    ]
    apply_changes(
        store, own, [EntryRecord(g.id, "revoke", -g.balance, now) for g in own if g.balance], now
    )
    store.grants.deactivate([g.id for g in own])
    store.customers.end_entity_plans(customer.internal_id, entity.internal_id, now)
    store.entities.delete(entity.internal_id)
    if entity.feature_id is not None:
        feature = feature_service.require(store, entity.feature_id)
        record(
            store,
            now,
            Subject(customer),
            [feature],
            -SCALE,
            OverageBehavior.CAP,
            properties={"entity_id": entity.entity_id, "reason": "entity deleted"},
        )

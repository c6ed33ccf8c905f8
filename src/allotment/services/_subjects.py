"""The subject of a check or track: a customer, or one entity inside it.

An entity-level operation sees the entity's own grants and the customer-level grants (the
entity's first); a customer-level one sees the customer's grants and those of all its entities
(the customer's first), as Autumn does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from allotment.domain.catalog import validate_id
from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.domain.grants import Grant
from allotment.services import customers as customer_service
from allotment.services._live_grants import live_grants
from allotment.storage.records import CustomerRecord, EntityRecord
from allotment.storage.store import Store


@dataclass(frozen=True)
class Subject:
    customer: CustomerRecord
    entity: EntityRecord | None = None

    @property
    def entity_internal_id(self) -> int | None:
        return self.entity.internal_id if self.entity is not None else None

    @property
    def entity_id(self) -> str | None:
        return self.entity.entity_id if self.entity is not None else None

    def sees(self, grant: Grant) -> bool:
        if self.entity is None:
            return True
        return grant.entity_internal_id in (None, self.entity.internal_id)


def require_entity(store: Store, customer: CustomerRecord, entity_id: object) -> EntityRecord:
    identifier = validate_id(entity_id, "entity_id")
    entity = store.entities.get(customer.internal_id, identifier)
    if entity is None:
        raise AllotmentError(
            ErrorCode.ENTITY_NOT_FOUND,
            f"entity {identifier!r} not found for customer {customer.customer_id!r}",
        )
    return entity


def resolve(store: Store, customer_id: object, entity_id: object, *, lock: bool) -> Subject:
    customer = customer_service.require(store, customer_id, lock=lock)
    if entity_id is None:
        return Subject(customer)
    return Subject(customer, require_entity(store, customer, entity_id))


def grants_of(
    store: Store, subject: Subject, feature_ids: Sequence[str] | None, now: datetime, write: bool
) -> list[Grant]:
    grants = live_grants(store, subject.customer.internal_id, feature_ids, now, write=write)
    return [g for g in grants if subject.sees(g)]

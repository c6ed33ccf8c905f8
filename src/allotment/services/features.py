"""Use cases: features and credit systems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from allotment.domain.catalog import (
    Feature,
    FeatureType,
    parse_credit_schema,
    validate_credit_schema,
    validate_id,
)
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.storage.store import Store

_TYPES = {t.value for t in FeatureType}


def _parse_type(type_: str | None, consumable: bool | None) -> tuple[FeatureType, bool]:
    if type_ not in _TYPES:
        raise invalid(f"type must be one of {', '.join(sorted(_TYPES))}")
    kind = FeatureType(type_)
    if kind is FeatureType.METERED:
        if consumable is None:
            raise invalid("consumable is required for a metered feature")
        return kind, consumable
    # a credit system is consumable by definition; a boolean feature has nothing to consume
    return kind, kind is FeatureType.CREDIT_SYSTEM


def _parse_event_names(raw: Sequence[str] | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    return tuple(validate_id(name, f"event_names[{i}]") for i, name in enumerate(raw))


def _parse_display(raw: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return dict(raw) if raw is not None else None


def _validate(store: Store, feature: Feature) -> None:
    if feature.is_pool:
        ids = [line.metered_feature_id for line in feature.credit_schema]
        known = {f.feature_id: f for f in store.catalog.features(ids)}
        validate_credit_schema(feature.credit_schema, known, feature.feature_id)


def create(
    store: Store,
    now: datetime,
    *,
    feature_id: str,
    name: str | None = None,
    type_: str | None = None,
    consumable: bool | None = None,
    credit_schema: Sequence[Mapping[str, Any]] | None = None,
    event_names: Sequence[str] | None = None,
    display: Mapping[str, Any] | None = None,
) -> Feature:
    identifier = validate_id(feature_id, "feature_id")
    kind, is_consumable = _parse_type(type_, consumable)
    if kind is FeatureType.CREDIT_SYSTEM:
        schema = parse_credit_schema(credit_schema)
    elif credit_schema:
        raise invalid("credit_schema is only allowed on a credit_system feature")
    else:
        schema = ()
    feature = Feature(
        feature_id=identifier,
        name=name,
        type=kind,
        consumable=is_consumable,
        event_names=_parse_event_names(event_names),
        credit_schema=schema,
        display=_parse_display(display),
        created_at=now,
    )
    if store.catalog.feature(identifier) is not None:
        raise AllotmentError(
            ErrorCode.FEATURE_ALREADY_EXISTS, f"feature {identifier!r} already exists"
        )
    _validate(store, feature)
    store.catalog.insert_feature(feature, now)
    return feature


def require(store: Store, feature_id: object) -> Feature:
    identifier = validate_id(feature_id, "feature_id")
    feature = store.catalog.feature(identifier)
    if feature is None:
        raise AllotmentError(ErrorCode.FEATURE_NOT_FOUND, f"feature {identifier!r} not found")
    return feature


def get(store: Store, feature_id: str) -> Feature:
    return require(store, feature_id)


def list_all(store: Store, *, include_archived: bool = False) -> list[Feature]:
    return [f for f in store.catalog.features() if include_archived or not f.archived]


def update(
    store: Store,
    *,
    feature_id: str,
    name: str | None = None,
    type_: str | None = None,
    consumable: bool | None = None,
    credit_schema: Sequence[Mapping[str, Any]] | None = None,
    event_names: Sequence[str] | None = None,
    display: Mapping[str, Any] | None = None,
    archived: bool | None = None,
) -> Feature:
    current = require(store, feature_id)
    changed = current
    if name is not None:
        changed = replace(changed, name=name)
    if type_ is not None or consumable is not None:
        kind, is_consumable = _parse_type(
            type_ if type_ is not None else current.type.value,
            consumable if consumable is not None else current.consumable,
        )
        if kind is not current.type and (current.is_pool or kind is FeatureType.CREDIT_SYSTEM):
            raise invalid("type: a feature cannot change to or from a credit system")
        changed = replace(changed, type=kind, consumable=is_consumable)
    if credit_schema is not None:
        if not current.is_pool:
            raise invalid("credit_schema is only allowed on a credit_system feature")
        changed = replace(changed, credit_schema=parse_credit_schema(credit_schema))
    if event_names is not None:
        changed = replace(changed, event_names=_parse_event_names(event_names))
    if display is not None:
        changed = replace(changed, display=_parse_display(display))
    if archived is not None:
        changed = replace(changed, archived=archived)
    _validate(store, changed)
    if (changed.type, changed.consumable) != (current.type, current.consumable):
        if store.catalog.pools_containing(current.feature_id):
            raise invalid(
                f"feature {current.feature_id!r} is in a credit system and must stay a "
                "consumable metered feature"
            )
        if store.catalog.feature_referenced(current.feature_id):
            raise AllotmentError(
                ErrorCode.FEATURE_IN_USE,
                f"feature {current.feature_id!r} is used by a plan; its type cannot change",
            )
    store.catalog.update_feature(current.feature_id, changed)
    return changed


def delete(store: Store, feature_id: str) -> None:
    current = require(store, feature_id)
    if store.catalog.feature_referenced(current.feature_id):
        raise AllotmentError(
            ErrorCode.FEATURE_IN_USE,
            f"feature {current.feature_id!r} is used by a plan or a credit system; "
            "archive it instead",
        )
    store.catalog.delete_feature(current.feature_id)

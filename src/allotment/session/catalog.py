"""`features.*` and `plans.*` of a tenant session.

Each keyword method builds its request model with `parse` (the one validation the HTTP
handlers share: the same bad input gets the same code and message) and calls its `*_from`
method, which the HTTP handlers call with the model they already validated (`feature_id or
id`, `plan_id or id`: the ids the clients send). The services answer with domain objects; the
results are presented here (`wire.present`)."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.domain.catalog import Plan
from allotment.domain.errors import invalid
from allotment.services import features as feature_service
from allotment.services import plans as plan_service
from allotment.session.namespace import Namespace, keywords
from allotment.wire import present
from allotment.wire.requests import FeatureIdRequest, FeatureRequest, PlanRequest, parse


def _schema(request: FeatureRequest) -> builtins.list[dict[str, Any]] | None:
    if request.credit_schema is None:
        return None
    return [line.model_dump() for line in request.credit_schema]


def _feature_id(request: FeatureRequest) -> str:
    feature_id = request.feature_id or request.id
    if feature_id is None:
        raise invalid("feature_id is required")
    return feature_id


def _plan_id(request: PlanRequest) -> str:
    plan_id = request.plan_id or request.id
    if plan_id is None:
        raise invalid("plan_id is required")
    return plan_id


def _items(request: PlanRequest) -> builtins.list[dict[str, Any]] | None:
    if request.items is None:
        return None
    return [item.model_dump(exclude_none=True) for item in request.items]


class Features(Namespace):
    def create(
        self,
        *,
        feature_id: str,
        name: str | None = None,
        type_: str | None = None,
        consumable: bool | None = None,
        credit_schema: builtins.list[dict[str, Any]] | None = None,
        event_names: builtins.list[str] | None = None,
        display: dict[str, Any] | None = None,
    ) -> schemas.Feature:
        fields = keywords(locals())
        return self.create_from(parse(FeatureRequest, fields))

    def create_from(self, request: FeatureRequest) -> schemas.Feature:
        feature_id, credit_schema = _feature_id(request), _schema(request)
        created = self._write(
            lambda store, now, _: feature_service.create(
                store,
                now,
                feature_id=feature_id,
                name=request.name,
                type_=request.type,
                consumable=request.consumable,
                credit_schema=credit_schema,
                event_names=request.event_names,
                display=request.display,
            )
        )
        return present.feature(created)

    def get(self, *, feature_id: str) -> schemas.Feature:
        return self.get_from(parse(FeatureIdRequest, {"feature_id": feature_id}))

    def get_from(self, request: FeatureIdRequest) -> schemas.Feature:
        found = self._read(lambda store, _now, _: feature_service.get(store, request.feature_id))
        return present.feature(found)

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Feature]:
        return self.list_from(parse(FeatureRequest, {"archived": include_archived}))

    def list_from(self, request: FeatureRequest) -> builtins.list[schemas.Feature]:
        """`archived: true` lists the archived features too."""
        include_archived = bool(request.archived)
        found = self._read(
            lambda store, _now, _: feature_service.list_all(
                store, include_archived=include_archived
            )
        )
        return [present.feature(f) for f in found]

    def update(
        self,
        *,
        feature_id: str,
        name: str | None = None,
        type_: str | None = None,
        consumable: bool | None = None,
        credit_schema: builtins.list[dict[str, Any]] | None = None,
        event_names: builtins.list[str] | None = None,
        display: dict[str, Any] | None = None,
        archived: bool | None = None,
    ) -> schemas.Feature:
        fields = keywords(locals())
        return self.update_from(parse(FeatureRequest, fields))

    def update_from(self, request: FeatureRequest) -> schemas.Feature:
        feature_id, credit_schema = _feature_id(request), _schema(request)
        changed = self._write(
            lambda store, _now, _: feature_service.update(
                store,
                feature_id=feature_id,
                name=request.name,
                type_=request.type,
                consumable=request.consumable,
                credit_schema=credit_schema,
                event_names=request.event_names,
                display=request.display,
                archived=request.archived,
            )
        )
        return present.feature(changed)

    def delete(self, *, feature_id: str) -> None:
        self.delete_from(parse(FeatureIdRequest, {"feature_id": feature_id}))

    def delete_from(self, request: FeatureIdRequest) -> None:
        self._write(lambda store, _now, _: feature_service.delete(store, request.feature_id))


class Plans(Namespace):
    def create(
        self,
        *,
        plan_id: str,
        name: str | None = None,
        group: str | None = None,
        description: str | None = None,
        add_on: bool | None = None,
        auto_enable: bool | None = None,
        price: dict[str, Any] | None = None,
        items: builtins.list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        create_in_stripe: bool | None = None,
    ) -> schemas.Plan:
        fields = keywords(locals())
        return self.create_from(parse(PlanRequest, fields))

    def create_from(self, request: PlanRequest) -> schemas.Plan:
        plan_id, items = _plan_id(request), _items(request)
        created = self._write(
            lambda store, now, _: plan_service.create(
                store,
                now,
                plan_id=plan_id,
                name=request.name,
                description=request.description,
                group=request.group or None,
                add_on=request.add_on,
                auto_enable=request.auto_enable,
                items=items,
                metadata=request.metadata,
                price=request.price,
            )
        )
        return self._present(created)

    def get(self, *, plan_id: str, version: int | None = None) -> schemas.Plan:
        return self.get_from(parse(PlanRequest, {"plan_id": plan_id, "version": version}))

    def get_from(self, request: PlanRequest) -> schemas.Plan:
        plan_id = _plan_id(request)
        found = self._read(lambda store, _now, _: plan_service.get(store, plan_id, request.version))
        return self._present(found)

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Plan]:
        return self.list_from(parse(PlanRequest, {"include_archived": include_archived}))

    def list_from(self, request: PlanRequest) -> builtins.list[schemas.Plan]:
        """`include_archived: true` (a key the clients send beside the model's fields) lists
        the archived plans too."""
        include_archived = bool((request.model_extra or {}).get("include_archived"))
        found = self._read(
            lambda store, _now, _: plan_service.list_all(store, include_archived=include_archived)
        )
        return [self._present(p) for p in found]

    def update(
        self,
        *,
        plan_id: str,
        group: str | None = None,
        name: str | None = None,
        description: str | None = None,
        add_on: bool | None = None,
        auto_enable: bool | None = None,
        items: builtins.list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        archived: bool | None = None,
        price: dict[str, Any] | None = None,
    ) -> schemas.Plan:
        fields = keywords(locals())
        return self.update_from(parse(PlanRequest, fields))

    def update_from(self, request: PlanRequest) -> schemas.Plan:
        plan_id, items = _plan_id(request), _items(request)
        changed = self._write(
            lambda store, now, _: plan_service.update(
                store,
                now,
                plan_id=plan_id,
                name=request.name,
                description=request.description,
                group=request.group,
                add_on=request.add_on,
                auto_enable=request.auto_enable,
                items=items,
                metadata=request.metadata,
                archived=request.archived,
                price=request.price,
            )
        )
        return self._present(changed)

    def delete(self, *, plan_id: str) -> None:
        self.delete_from(parse(PlanRequest, {"plan_id": plan_id}))

    def delete_from(self, request: PlanRequest) -> None:
        plan_id = _plan_id(request)
        self._write(lambda store, _now, _: plan_service.delete(store, plan_id))

    def _present(self, plan: Plan) -> schemas.Plan:
        return present.plan(plan, self._scope.env)

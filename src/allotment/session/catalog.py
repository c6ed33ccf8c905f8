"""`features.*` and `plans.*` of the embedded API."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.services import features as feature_service
from allotment.services import plans as plan_service
from allotment.session.namespace import Namespace


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
        return self._write(
            lambda store, now, _: feature_service.create(
                store,
                now,
                feature_id=feature_id,
                name=name,
                type_=type_,
                consumable=consumable,
                credit_schema=credit_schema,
                event_names=event_names,
                display=display,
            )
        )

    def get(self, *, feature_id: str) -> schemas.Feature:
        return self._read(lambda store, _now, _: feature_service.get(store, feature_id))

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Feature]:
        return self._read(
            lambda store, _now, _: feature_service.list_all(
                store, include_archived=include_archived
            )
        )

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
        return self._write(
            lambda store, _now, _: feature_service.update(
                store,
                feature_id=feature_id,
                name=name,
                type_=type_,
                consumable=consumable,
                credit_schema=credit_schema,
                event_names=event_names,
                display=display,
                archived=archived,
            )
        )

    def delete(self, *, feature_id: str) -> None:
        self._write(lambda store, _now, _: feature_service.delete(store, feature_id))


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
        return self._write(
            lambda store, now, _: plan_service.create(
                store,
                now,
                plan_id=plan_id,
                name=name,
                description=description,
                group=group or None,
                add_on=add_on,
                auto_enable=auto_enable,
                items=items,
                metadata=metadata,
                price=price,
            )
        )

    def get(self, *, plan_id: str, version: int | None = None) -> schemas.Plan:
        return self._read(lambda store, _now, _: plan_service.get(store, plan_id, version))

    def list(self, *, include_archived: bool = False) -> builtins.list[schemas.Plan]:
        return self._read(
            lambda store, _now, _: plan_service.list_all(store, include_archived=include_archived)
        )

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
        return self._write(
            lambda store, now, _: plan_service.update(
                store,
                now,
                plan_id=plan_id,
                name=name,
                description=description,
                group=group,
                add_on=add_on,
                auto_enable=auto_enable,
                items=items,
                metadata=metadata,
                archived=archived,
                price=price,
            )
        )

    def delete(self, *, plan_id: str) -> None:
        self._write(lambda store, _now, _: plan_service.delete(store, plan_id))

"""features.* and plans.*: request model -> the tenant session -> the answer."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.errors import invalid
from allotment.wire.requests import FeatureIdRequest, FeatureRequest, PlanRequest


def _feature_id(body: FeatureRequest) -> str:
    feature_id = body.feature_id or body.id
    if feature_id is None:
        raise invalid("feature_id is required")
    return feature_id


def _schema(body: FeatureRequest) -> list[dict[str, Any]] | None:
    if body.credit_schema is None:
        return None
    return [line.model_dump() for line in body.credit_schema]


def create_feature(ctx: RequestContext, body: FeatureRequest) -> schemas.Feature:
    return ctx.tenant.features.create(
        feature_id=_feature_id(body),
        name=body.name,
        type_=body.type,
        consumable=body.consumable,
        credit_schema=_schema(body),
        event_names=body.event_names,
        display=body.display,
    )


def get_feature(ctx: RequestContext, body: FeatureIdRequest) -> schemas.Feature:
    return ctx.tenant.features.get(feature_id=body.feature_id)


def list_features(ctx: RequestContext, body: FeatureRequest) -> dict[str, Any]:
    return {"list": ctx.tenant.features.list(include_archived=bool(body.archived))}


def update_feature(ctx: RequestContext, body: FeatureRequest) -> schemas.Feature:
    return ctx.tenant.features.update(
        feature_id=_feature_id(body),
        name=body.name,
        type_=body.type,
        consumable=body.consumable,
        credit_schema=_schema(body),
        event_names=body.event_names,
        display=body.display,
        archived=body.archived,
    )


def delete_feature(ctx: RequestContext, body: FeatureIdRequest) -> schemas.Success:
    ctx.tenant.features.delete(feature_id=body.feature_id)
    return schemas.Success()


def _plan_id(body: PlanRequest) -> str:
    plan_id = body.plan_id or body.id
    if plan_id is None:
        raise invalid("plan_id is required")
    return plan_id


def _items(body: PlanRequest) -> list[dict[str, Any]] | None:
    if body.items is None:
        return None
    return [item.model_dump(exclude_none=True) for item in body.items]


def create_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.create(
        plan_id=_plan_id(body),
        name=body.name,
        description=body.description,
        group=body.group or None,
        add_on=body.add_on,
        auto_enable=body.auto_enable,
        items=_items(body),
        metadata=body.metadata,
        price=body.price,
    )


def get_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.get(plan_id=_plan_id(body), version=body.version)


def list_plans(ctx: RequestContext, body: PlanRequest) -> dict[str, Any]:
    extra = body.model_extra or {}
    return {"list": ctx.tenant.plans.list(include_archived=bool(extra.get("include_archived")))}


def update_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.update(
        plan_id=_plan_id(body),
        name=body.name,
        description=body.description,
        group=body.group,
        add_on=body.add_on,
        auto_enable=body.auto_enable,
        items=_items(body),
        metadata=body.metadata,
        archived=body.archived,
        price=body.price,
    )


def delete_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Success:
    ctx.tenant.plans.delete(plan_id=_plan_id(body))
    return schemas.Success()

"""features.* and plans.*: request model -> the tenant session -> the answer. The session's
`*_from` methods take the validated model (the same one its keyword methods build), so an
embedded call and an HTTP call refuse the same input alike."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.wire.requests import FeatureIdRequest, FeatureRequest, PlanRequest


def create_feature(ctx: RequestContext, body: FeatureRequest) -> schemas.Feature:
    return ctx.tenant.features.create_from(body)


def get_feature(ctx: RequestContext, body: FeatureIdRequest) -> schemas.Feature:
    return ctx.tenant.features.get_from(body)


def list_features(ctx: RequestContext, body: FeatureRequest) -> dict[str, Any]:
    return {"list": ctx.tenant.features.list_from(body)}


def update_feature(ctx: RequestContext, body: FeatureRequest) -> schemas.Feature:
    return ctx.tenant.features.update_from(body)


def delete_feature(ctx: RequestContext, body: FeatureIdRequest) -> schemas.Success:
    ctx.tenant.features.delete_from(body)
    return schemas.Success()


def create_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.create_from(body)


def get_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.get_from(body)


def list_plans(ctx: RequestContext, body: PlanRequest) -> dict[str, Any]:
    return {"list": ctx.tenant.plans.list_from(body)}


def update_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Plan:
    return ctx.tenant.plans.update_from(body)


def delete_plan(ctx: RequestContext, body: PlanRequest) -> schemas.Success:
    ctx.tenant.plans.delete_from(body)
    return schemas.Success()

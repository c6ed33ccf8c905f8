"""billing.attach: request model -> the tenant session -> the answer (1.2 shape for 1.x)."""

from __future__ import annotations

from typing import Any

from allotment.api.context import RequestContext
from allotment.domain.errors import invalid
from allotment.wire import legacy
from allotment.wire.requests import AttachRequest


def attach(ctx: RequestContext, body: AttachRequest) -> Any:
    plan_id = body.plan_id or body.product_id
    if plan_id is None:
        raise invalid("plan_id is required")
    result = ctx.tenant.billing.attach(
        customer_id=body.customer_id,
        plan_id=plan_id,
        version=body.version,
        entity_id=body.entity_id,
    )
    return legacy.attach(result, plan_id) if ctx.legacy else result

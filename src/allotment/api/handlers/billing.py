"""billing.attach: the validated request model -> the tenant session's `attach_from` -> the
answer (1.2 shape for 1.x)."""

from __future__ import annotations

from typing import Any

from allotment.api.context import RequestContext
from allotment.wire import legacy
from allotment.wire.requests import AttachRequest


def attach(ctx: RequestContext, body: AttachRequest) -> Any:
    plan_id = body.chosen_plan_id()  # `plan_id`, or the 1.x `product_id`
    result = ctx.tenant.billing.attach_from(body)
    return legacy.attach(result, plan_id) if ctx.legacy else result

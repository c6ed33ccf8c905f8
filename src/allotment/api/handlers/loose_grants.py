"""balances.create, balances.update, balances.delete (loose grants): request model -> the
tenant session -> the answer."""

from __future__ import annotations

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.wire.requests import (
    BalanceCreateRequest,
    BalanceDeleteRequest,
    BalanceUpdateRequest,
)


def create_balance(ctx: RequestContext, body: BalanceCreateRequest) -> schemas.Success:
    return ctx.tenant.balances.create(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        entity_id=body.entity_id,
        included_grant=body.included_grant,
        unlimited=body.unlimited,
        reset=body.reset.model_dump() if body.reset is not None else None,
        expires_at=body.expires_at,
        rollover=body.rollover,
        next_reset_at=body.next_reset_at,
        balance_id=body.balance_id,
    )


def update_balance(ctx: RequestContext, body: BalanceUpdateRequest) -> schemas.Success:
    return ctx.tenant.balances.update(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        entity_id=body.entity_id,
        remaining=body.remaining,
        add_to_balance=body.add_to_balance,
        usage=body.usage,
        included_grant=body.included_grant,
        balance_id=body.balance_id,
        interval=body.interval,
        reason=body.reason,
    )


def delete_balance(ctx: RequestContext, body: BalanceDeleteRequest) -> schemas.Success:
    return ctx.tenant.balances.delete(
        customer_id=body.customer_id,
        feature_id=body.feature_id,
        entity_id=body.entity_id,
        balance_id=body.balance_id,
        interval=body.interval,
        reason=body.reason,
    )

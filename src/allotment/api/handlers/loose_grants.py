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
    return ctx.tenant.balances.create_from(body)


def update_balance(ctx: RequestContext, body: BalanceUpdateRequest) -> schemas.Success:
    return ctx.tenant.balances.update_from(body)


def delete_balance(ctx: RequestContext, body: BalanceDeleteRequest) -> schemas.Success:
    return ctx.tenant.balances.delete_from(body)

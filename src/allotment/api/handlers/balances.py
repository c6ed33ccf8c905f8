"""check, track, finalize, usage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from allotment import wire as schemas
from allotment.api.context import RequestContext
from allotment.domain.amounts import parse_amount
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.services import customers as customer_service
from allotment.services import grants as grant_service
from allotment.services import locks as lock_service
from allotment.services import usage as usage_service
from allotment.storage.store import Store
from allotment.wire import legacy
from allotment.wire.requests import (
    BalanceCreateRequest,
    BalanceDeleteRequest,
    BalanceUpdateRequest,
    CheckRequest,
    FinalizeRequest,
    TrackRequest,
    UsageRequest,
)


def _auto_create(
    store: Store, now: datetime, customer_id: str, data: dict[str, Any] | None
) -> None:
    """API before 2.1: check and track on an unknown customer create it (as Autumn does)."""
    data = data or {}
    customer_service.get_or_create(
        store,
        now,
        customer_id=customer_id,
        name=data.get("name"),
        email=data.get("email"),
        fingerprint=data.get("fingerprint"),
        metadata=data.get("metadata"),
        write=True,
    )


def check(ctx: RequestContext, body: CheckRequest) -> Any:
    feature_id = body.feature_id
    if feature_id is None:
        raise invalid("feature_id is required")
    required = (
        body.required_balance if body.required_balance is not None else body.required_quantity
    )
    consuming = bool(body.send_event) or (body.lock is not None and body.lock.enabled)
    if ctx.publishable and consuming:
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST, "a publishable key cannot send_event or take a lock"
        )
    lock = body.lock.model_dump() if body.lock is not None else None

    def operation(store: Store, now: datetime, write: bool) -> schemas.CheckResponse:
        if ctx.auto_create and not ctx.publishable:
            _auto_create(store, now, body.customer_id, body.customer_data)
        return usage_service.check(
            store,
            now,
            customer_id=body.customer_id,
            feature_id=feature_id,
            entity_id=body.entity_id,
            required_balance=required,
            send_event=body.send_event,
            properties=body.properties,
            lock=lock,
            write=write,
        )

    creates = ctx.auto_create and not ctx.publishable
    result = ctx.write(operation) if consuming or creates else ctx.read(operation)
    return legacy.check(result, feature_id) if ctx.legacy else result


def track(ctx: RequestContext, body: TrackRequest) -> Any:
    key = body.idempotency_key if body.idempotency_key is not None else ctx.idempotency_key

    def operation(store: Store, now: datetime, _write: bool) -> schemas.TrackResponse:
        if ctx.auto_create:
            _auto_create(store, now, body.customer_id, body.customer_data)
        return usage_service.track(
            store,
            now,
            customer_id=body.customer_id,
            feature_id=body.feature_id,
            event_name=body.event_name,
            entity_id=body.entity_id,
            value=body.value,
            properties=body.properties,
            timestamp=body.timestamp,
            idempotency_key=key,
            overage_behavior=body.overage_behavior,
        )

    result = ctx.write(operation)
    return legacy.track(result) if ctx.legacy else result


def finalize(ctx: RequestContext, body: FinalizeRequest) -> schemas.Success:
    ctx.write(
        lambda store, now, _: lock_service.finalize(
            store,
            now,
            lock_id=body.lock_id,
            action=body.action,
            override_value=body.override_value,
        )
    )
    return schemas.Success()


def usage(ctx: RequestContext, body: UsageRequest) -> dict[str, Any]:
    """Legacy `POST /v1/usage`: set the usage of a feature to `value` by tracking the
    difference (measured on the balance that answers for the feature, in its units)."""

    target = parse_amount(body.value, "value")  # bounded and exact before any arithmetic

    def operation(store: Store, now: datetime, _write: bool) -> None:
        current = usage_service.check(
            store,
            now,
            customer_id=body.customer_id,
            feature_id=body.feature_id,
            entity_id=body.entity_id,
            write=True,
        )
        used = current.balance.usage if current.balance is not None else Decimal(0)
        if current.balance is not None and current.balance.feature_id != body.feature_id:
            cost = current.required_balance or Decimal(1)  # the pool's credits for one unit
            used = used / cost
        delta = target - used
        if delta:
            usage_service.track(
                store,
                now,
                customer_id=body.customer_id,
                feature_id=body.feature_id,
                entity_id=body.entity_id,
                value=delta.quantize(Decimal("0.000001")),
                overage_behavior="overflow",
            )

    ctx.write(operation)
    return {"success": True}


def create_balance(ctx: RequestContext, body: BalanceCreateRequest) -> schemas.Success:
    reset = body.reset.model_dump() if body.reset is not None else None
    ctx.write(
        lambda store, now, _: grant_service.create(
            store,
            now,
            customer_id=body.customer_id,
            feature_id=body.feature_id,
            entity_id=body.entity_id,
            included_grant=body.included_grant,
            unlimited=body.unlimited,
            reset=reset,
            expires_at=body.expires_at,
            rollover=body.rollover,
            next_reset_at=body.next_reset_at,
            balance_id=body.balance_id,
        )
    )
    return schemas.Success()


def update_balance(ctx: RequestContext, body: BalanceUpdateRequest) -> schemas.Success:
    ctx.write(
        lambda store, now, _: grant_service.update(
            store,
            now,
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
            actor=ctx.actor,
        )
    )
    return schemas.Success()


def delete_balance(ctx: RequestContext, body: BalanceDeleteRequest) -> schemas.Success:
    ctx.write(
        lambda store, now, _: grant_service.delete(
            store,
            now,
            customer_id=body.customer_id,
            feature_id=body.feature_id,
            entity_id=body.entity_id,
            balance_id=body.balance_id,
            interval=body.interval,
            reason=body.reason,
            actor=ctx.actor,
        )
    )
    return schemas.Success()

"""`balances.*` of a tenant session: loose grants (create, update, delete), finalizing a lock
and the legacy set-usage. Each method validates its keywords with the request model HTTP uses
(`wire.requests`), then runs its `<method>_from`, which the HTTP handlers call directly."""

from __future__ import annotations

from typing import Any

from allotment import wire as schemas
from allotment.services import locks as lock_service
from allotment.services import loose_grants as loose_grant_service
from allotment.services import usage as usage_service
from allotment.session.namespace import Namespace, keywords
from allotment.wire.requests import (
    BalanceCreateRequest,
    BalanceDeleteRequest,
    BalanceUpdateRequest,
    FinalizeRequest,
    UsageRequest,
    parse,
)


class Balances(Namespace):
    def finalize(
        self,
        *,
        lock_id: str,
        action: str,
        override_value: Any = None,
        properties: dict[str, Any] | None = None,
    ) -> schemas.Success:
        fields = keywords(locals())
        return self.finalize_from(parse(FinalizeRequest, fields))

    def finalize_from(self, request: FinalizeRequest) -> schemas.Success:
        self._write(
            lambda store, now, _: lock_service.finalize(
                store,
                now,
                lock_id=request.lock_id,
                action=request.action,
                override_value=request.override_value,
            )
        )
        return schemas.Success()

    def set_usage(
        self, *, customer_id: str, feature_id: str, value: Any, entity_id: str | None = None
    ) -> None:
        """Legacy `/v1/usage`: set the feature's usage to `value` by tracking the difference
        (overflow), in one transaction."""
        fields = keywords(locals())
        self.set_usage_from(parse(UsageRequest, fields))

    def set_usage_from(self, request: UsageRequest) -> None:
        self._write(
            lambda store, now, _: usage_service.set_usage(
                store,
                now,
                customer_id=request.customer_id,
                feature_id=request.feature_id,
                entity_id=request.entity_id,
                value=request.value,
            )
        )

    def create(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        included_grant: Any = None,
        unlimited: bool | None = None,
        reset: dict[str, Any] | None = None,
        rollover: dict[str, Any] | None = None,
        expires_at: int | None = None,
        next_reset_at: int | None = None,
        balance_id: str | None = None,
    ) -> schemas.Success:
        """`next_reset_at` (Unix ms, with `reset`): the first reset boundary; later ones keep
        its anchor."""
        fields = keywords(locals())
        return self.create_from(parse(BalanceCreateRequest, fields))

    def create_from(self, request: BalanceCreateRequest) -> schemas.Success:
        reset = request.reset.model_dump() if request.reset is not None else None
        self._write(
            lambda store, now, _: loose_grant_service.create(
                store,
                now,
                customer_id=request.customer_id,
                feature_id=request.feature_id,
                entity_id=request.entity_id,
                included_grant=request.included_grant,
                unlimited=request.unlimited,
                reset=reset,
                expires_at=request.expires_at,
                rollover=request.rollover,
                next_reset_at=request.next_reset_at,
                balance_id=request.balance_id,
            )
        )
        return schemas.Success()

    def update(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        remaining: Any = None,
        add_to_balance: Any = None,
        usage: Any = None,
        included_grant: Any = None,
        balance_id: str | None = None,
        interval: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> schemas.Success:
        """`reason` and `actor` (who; default: the session's) are kept on the adjustment's
        ledger entry."""
        fields = {
            "customer_id": customer_id,
            "feature_id": feature_id,
            "entity_id": entity_id,
            "remaining": remaining,
            "add_to_balance": add_to_balance,
            "usage": usage,
            "included_grant": included_grant,
            "balance_id": balance_id,
            "interval": interval,
            "reason": reason,
        }
        return self.update_from(parse(BalanceUpdateRequest, fields), actor=actor)

    def update_from(
        self, request: BalanceUpdateRequest, *, actor: str | None = None
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: loose_grant_service.update(
                store,
                now,
                customer_id=request.customer_id,
                feature_id=request.feature_id,
                entity_id=request.entity_id,
                remaining=request.remaining,
                add_to_balance=request.add_to_balance,
                usage=request.usage,
                included_grant=request.included_grant,
                balance_id=request.balance_id,
                interval=request.interval,
                reason=request.reason,
                actor=actor or self._scope.actor,
            )
        )
        return schemas.Success()

    def delete(
        self,
        *,
        customer_id: str,
        feature_id: str,
        entity_id: str | None = None,
        balance_id: str | None = None,
        interval: str | None = None,
        reason: str | None = None,
        actor: str | None = None,
    ) -> schemas.Success:
        fields = {
            "customer_id": customer_id,
            "feature_id": feature_id,
            "entity_id": entity_id,
            "balance_id": balance_id,
            "interval": interval,
            "reason": reason,
        }
        return self.delete_from(parse(BalanceDeleteRequest, fields), actor=actor)

    def delete_from(
        self, request: BalanceDeleteRequest, *, actor: str | None = None
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: loose_grant_service.delete(
                store,
                now,
                customer_id=request.customer_id,
                feature_id=request.feature_id,
                entity_id=request.entity_id,
                balance_id=request.balance_id,
                interval=request.interval,
                reason=request.reason,
                actor=actor or self._scope.actor,
            )
        )
        return schemas.Success()

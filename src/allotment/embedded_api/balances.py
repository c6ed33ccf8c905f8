"""`balances.*` and `events.*` of the embedded API."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.embedded_api.namespace import Namespace
from allotment.services import events as event_service
from allotment.services import grants as grant_service
from allotment.services import locks as lock_service
from allotment.services import reversals as reversal_service


class Events(Namespace):
    def list(
        self,
        *,
        customer_id: str | None = None,
        feature_id: str | builtins.list[str] | None = None,
        custom_range: dict[str, int] | None = None,
        start_cursor: str | None = None,
        limit: int = 50,
    ) -> schemas.EventsPage:
        return self._read(
            lambda store, _now, _: event_service.list_page(
                store,
                customer_id=customer_id,
                feature_id=feature_id,
                custom_range=custom_range,
                start_cursor=start_cursor or None,
                limit=limit,
            )
        )

    def reverse(
        self, *, event_id: str | None = None, idempotency_key: str | None = None
    ) -> schemas.Reversal:
        """Give back exactly what one tracked event took (see services.reversals)."""
        return self._write(
            lambda store, now, _: reversal_service.reverse(
                store, now, event_id=event_id, idempotency_key=idempotency_key
            )
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
        self._write(
            lambda store, now, _: lock_service.finalize(
                store, now, lock_id=lock_id, action=action, override_value=override_value
            )
        )
        return schemas.Success()

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
        self._write(
            lambda store, now, _: grant_service.create(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                included_grant=included_grant,
                unlimited=unlimited,
                reset=reset,
                expires_at=expires_at,
                rollover=rollover,
                next_reset_at=next_reset_at,
                balance_id=balance_id,
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
        actor: str = "embedded",
    ) -> schemas.Success:
        """`reason` and `actor` (who) are kept on the adjustment's ledger entry."""
        self._write(
            lambda store, now, _: grant_service.update(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                remaining=remaining,
                add_to_balance=add_to_balance,
                usage=usage,
                included_grant=included_grant,
                balance_id=balance_id,
                interval=interval,
                reason=reason,
                actor=actor,
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
        actor: str = "embedded",
    ) -> schemas.Success:
        self._write(
            lambda store, now, _: grant_service.delete(
                store,
                now,
                customer_id=customer_id,
                feature_id=feature_id,
                entity_id=entity_id,
                balance_id=balance_id,
                interval=interval,
                reason=reason,
                actor=actor,
            )
        )
        return schemas.Success()

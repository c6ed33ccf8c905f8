"""`events.*` of a tenant session: list, aggregate, and reverse one event."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.services import events as event_service
from allotment.services import reversals as reversal_service
from allotment.session.namespace import Namespace


class Events(Namespace):
    def list(
        self,
        *,
        customer_id: str | None = None,
        feature_id: str | builtins.list[str] | None = None,
        custom_range: dict[str, int] | None = None,
        start_cursor: str | None = None,
        limit: int | None = 50,
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

    def aggregate(
        self,
        *,
        feature_id: str | builtins.list[str],
        customer_id: str | None = None,
        range: str | None = None,
        bin_size: str | None = None,
        custom_range: dict[str, int] | None = None,
        group_by: str | None = None,
    ) -> dict[str, Any]:
        """Sums of tracked values per feature and time bin, plus totals."""
        return self._read(
            lambda store, now, _: event_service.aggregate(
                store,
                now,
                feature_id=feature_id,
                customer_id=customer_id,
                range_=range,
                bin_size=bin_size,
                custom_range=custom_range,
                group_by=group_by,
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

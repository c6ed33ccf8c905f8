"""`events.*` of a tenant session: list, aggregate, and reverse one event. Each method
validates its keywords with the request model HTTP uses (`wire.requests`), then runs its
`<method>_from`, which the HTTP handlers call directly."""

from __future__ import annotations

import builtins
from typing import Any

from allotment import wire as schemas
from allotment.services import events as event_service
from allotment.services import reversals as reversal_service
from allotment.session.namespace import Namespace, keywords
from allotment.wire import present as presenters
from allotment.wire.requests import (
    EventReverseRequest,
    EventsAggregateRequest,
    EventsListRequest,
    Range,
    parse,
)


def _range(custom_range: Range | None) -> dict[str, Any] | None:
    return custom_range.model_dump() if custom_range is not None else None


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
        fields = keywords(locals())
        return self.list_from(parse(EventsListRequest, fields))

    def list_from(self, request: EventsListRequest) -> schemas.EventsPage:
        custom_range = _range(request.custom_range)
        page = self._read(
            lambda store, _now, _: event_service.list_page(
                store,
                customer_id=request.customer_id,
                feature_id=request.feature_id,
                custom_range=custom_range,
                start_cursor=request.start_cursor or None,
                limit=request.limit,
            )
        )
        return presenters.events_page(page)

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
        fields = keywords(locals())
        return self.aggregate_from(parse(EventsAggregateRequest, fields))

    def aggregate_from(self, request: EventsAggregateRequest) -> dict[str, Any]:
        custom_range = _range(request.custom_range)
        return self._read(
            lambda store, now, _: event_service.aggregate(
                store,
                now,
                feature_id=request.feature_id,
                customer_id=request.customer_id,
                range_=request.range,
                bin_size=request.bin_size,
                custom_range=custom_range,
                group_by=request.group_by,
            )
        )

    def reverse(
        self, *, event_id: str | None = None, idempotency_key: str | None = None
    ) -> schemas.Reversal:
        """Give back exactly what one tracked event took (see services.reversals)."""
        fields = keywords(locals())
        return self.reverse_from(parse(EventReverseRequest, fields))

    def reverse_from(self, request: EventReverseRequest) -> schemas.Reversal:
        outcome = self._write(
            lambda store, now, _: reversal_service.reverse(
                store, now, event_id=request.event_id, idempotency_key=request.idempotency_key
            )
        )
        return presenters.reversal(outcome)

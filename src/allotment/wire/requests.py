"""Request bodies, as the official clients send them. These models are the wire schema of
`/openapi.json`; unknown keys (Stripe options, ...) are accepted and ignored. The services
validate meaning (precision, ids, ...); these validate shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictInt, ValidationError

from allotment.domain.errors import invalid

Number = Decimal
M = TypeVar("M", bound=BaseModel)


def describe(error: ValidationError) -> str:
    """The first problem of a validation error, naming its field (`field: message`; an item
    of a list body as `[index].field`)."""
    first = error.errors()[0]
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]]
    field = "".join(parts).removeprefix(".") or "body"
    return f"{field}: {first['msg']}"


def parse(model: type[M], fields: Mapping[str, Any] | Sequence[Any]) -> M:
    """Validate one request, from an HTTP body or from the keywords of an embedded call: the
    same model refuses the same bad input with the same 400 `invalid_inputs` and message."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise invalid(describe(error)) from None


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class Lock(_Body):
    lock_id: str
    enabled: bool = True
    expires_at: int | None = None


class CheckRequest(_Body):
    customer_id: str
    feature_id: str | None = None
    product_id: str | None = None
    entity_id: str | None = None
    required_balance: Number | None = None
    required_quantity: Number | None = None
    properties: dict[str, Any] | None = None
    send_event: bool | None = None
    lock: Lock | None = None
    with_preview: bool | None = None
    customer_data: dict[str, Any] | None = None


class TrackRequest(_Body):
    customer_id: str
    feature_id: str | None = None
    event_name: str | None = None
    entity_id: str | None = None
    value: Number | None = None
    properties: dict[str, Any] | None = None
    timestamp: int | None = None
    idempotency_key: str | None = None
    overage_behavior: Literal["cap", "overflow", "reject"] | None = None
    async_: bool | None = Field(default=None, alias="async")
    customer_data: dict[str, Any] | None = None


class BatchTrackRequest(RootModel[list[TrackRequest]]):
    """`balances.batch_track`: a bare JSON array of 1 to 1,000 track bodies."""

    root: list[TrackRequest] = Field(min_length=1, max_length=1000)


class FinalizeRequest(_Body):
    lock_id: str
    action: Literal["confirm", "release"]
    override_value: Number | None = None
    properties: dict[str, Any] | None = None


class UsageRequest(_Body):
    customer_id: str
    feature_id: str
    value: Number
    entity_id: str | None = None


class CustomerRequest(_Body):
    customer_id: str | None = None
    id: str | None = None
    name: str | None = None
    email: str | None = None
    fingerprint: str | None = None
    metadata: dict[str, Any] | None = None


class CustomerIdRequest(_Body):
    customer_id: str


class TestClockRequest(_Body):
    customer_id: str
    frozen_time: StrictInt  # Unix ms; `true` is not 1


class ListRequest(_Body):
    start_cursor: str | None = None
    limit: int | None = None
    customer_id: str | None = None


class EntityRequest(_Body):
    customer_id: str | None = None
    entity_id: str
    feature_id: str | None = None
    name: str | None = None


class CreditSchemaLine(_Body):
    metered_feature_id: str
    credit_cost: Number


class FeatureRequest(_Body):
    feature_id: str | None = None
    id: str | None = None
    name: str | None = None
    type: str | None = None
    consumable: bool | None = None
    credit_schema: list[CreditSchemaLine] | None = None
    event_names: list[str] | None = None
    display: dict[str, Any] | None = None
    archived: bool | None = None


class FeatureIdRequest(_Body):
    feature_id: str


class ItemReset(_Body):
    interval: str
    interval_count: int | None = None


class PlanItemRequest(_Body):
    feature_id: str
    included: Number | None = None
    unlimited: bool | None = None
    reset: ItemReset | None = None
    price: dict[str, Any] | None = None
    rollover: dict[str, Any] | None = None


class PlanRequest(_Body):
    plan_id: str | None = None
    id: str | None = None
    name: str | None = None
    description: str | None = None
    group: str | None = None
    add_on: bool | None = None
    auto_enable: bool | None = None
    price: dict[str, Any] | None = None
    items: list[PlanItemRequest] | None = None
    metadata: dict[str, Any] | None = None
    archived: bool | None = None
    version: int | None = None


class AttachRequest(_Body):
    customer_id: str
    plan_id: str | None = None
    product_id: str | None = None
    entity_id: str | None = None
    version: int | None = None

    def chosen_plan_id(self) -> str:
        """`plan_id`, or `product_id` as 1.x clients name it."""
        plan_id = self.plan_id or self.product_id
        if plan_id is None:
            raise invalid("plan_id is required")
        return plan_id


class Range(_Body):
    start: int | None = None
    end: int | None = None


class EventsListRequest(_Body):
    customer_id: str | None = None
    feature_id: str | list[str] | None = None
    custom_range: Range | None = None
    start_cursor: str | None = None
    limit: int | None = None


class EventReverseRequest(_Body):
    event_id: str | None = None
    idempotency_key: str | None = None


class EventsAggregateRequest(_Body):
    customer_id: str | None = None
    feature_id: str | list[str]
    range: str | None = None
    bin_size: Literal["day", "hour", "week", "month"] | None = None
    custom_range: Range | None = None
    group_by: str | None = None


class BalanceCreateRequest(_Body):
    customer_id: str
    feature_id: str
    entity_id: str | None = None
    included_grant: Number | None = None
    unlimited: bool | None = None
    reset: ItemReset | None = None
    expires_at: int | None = None
    rollover: dict[str, Any] | None = None
    next_reset_at: int | None = None  # Unix ms: the first reset boundary (needs `reset`)
    balance_id: str | None = None


class BalanceUpdateRequest(_Body):
    customer_id: str
    feature_id: str
    entity_id: str | None = None
    remaining: Number | None = None
    add_to_balance: Number | None = None
    usage: Number | None = None
    included_grant: Number | None = None
    balance_id: str | None = None
    interval: str | None = None
    reason: str | None = None  # kept on the adjustment's ledger entry, with the key


class BalanceDeleteRequest(_Body):
    customer_id: str
    feature_id: str
    entity_id: str | None = None
    balance_id: str | None = None
    interval: str | None = None
    reason: str | None = None

"""Features, credit systems and plans: the catalog an app defines, and its validation rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from allotment.domain.amounts import SCALE, from_units, parse_amount, to_units
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.intervals import Interval
from allotment.domain.rollovers import RolloverRule, parse_rollover

__all__ = [
    "CreditCost",
    "Feature",
    "FeatureType",
    "Plan",
    "PlanItem",
    "parse_credit_schema",
    "parse_plan_items",
    "parse_reset",
    "validate_credit_schema",
]

_MAX_ID_LENGTH = 256


class FeatureType(StrEnum):
    BOOLEAN = "boolean"
    METERED = "metered"
    CREDIT_SYSTEM = "credit_system"


@dataclass(frozen=True)
class CreditCost:
    """One line of a credit schema: one unit of `metered_feature_id` costs `cost` credits."""

    metered_feature_id: str
    cost: int  # fixed-point credits per one unit of the metered feature

    @property
    def credit_cost(self) -> Decimal:
        return from_units(self.cost)


@dataclass(frozen=True)
class Feature:
    feature_id: str
    name: str | None
    type: FeatureType
    consumable: bool
    event_names: tuple[str, ...] = ()
    credit_schema: tuple[CreditCost, ...] = ()
    display: Mapping[str, Any] | None = None
    archived: bool = False
    created_at: datetime | None = None

    @property
    def is_pool(self) -> bool:
        return self.type is FeatureType.CREDIT_SYSTEM

    def cost_of(self, metered_feature_id: str) -> int | None:
        for line in self.credit_schema:
            if line.metered_feature_id == metered_feature_id:
                return line.cost
        return None


@dataclass(frozen=True)
class PlanItem:
    feature_id: str
    included: int = 0  # fixed-point
    unlimited: bool = False
    reset: Interval | None = None  # None: lifetime (`one_off` on the wire)
    interval_count: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)  # price, rollover, proration (JSON)

    @property
    def rollover(self) -> RolloverRule | None:
        """The item's rollover rule (validated when the plan was written)."""
        return parse_rollover(self.extra.get("rollover"), self.reset)


_BILLING_INTERVALS = ("one_off", "week", "month", "quarter", "semi_annual", "year")


@dataclass(frozen=True)
class PlanPrice:
    """What the plan costs and how often it is billed. Kept and shown, not charged (there is
    no payment provider); it sets the billing interval that item resets may be shorter than
    (a yearly plan whose credits reset monthly drips them month by month)."""

    amount: Decimal
    interval: str = "month"
    interval_count: int = 1


def parse_plan_price(raw: object) -> PlanPrice | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid("price must be an object")
    amount = parse_amount(raw.get("amount"), "price.amount")
    interval = raw.get("interval", "month")
    if interval not in _BILLING_INTERVALS:
        raise invalid(f"price.interval must be one of {', '.join(_BILLING_INTERVALS)}")
    count = raw.get("interval_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise invalid("price.interval_count must be an integer from 1 to 1000")
    return PlanPrice(amount, str(interval), count)


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str | None
    version: int
    items: tuple[PlanItem, ...]
    description: str | None = None
    group: str | None = None
    add_on: bool = False
    auto_enable: bool = False
    archived: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    internal_id: int | None = None
    price: PlanPrice | None = None


def validate_id(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{field_name} must be a non-empty string")
    if len(value) > _MAX_ID_LENGTH:
        raise invalid(f"{field_name} must be at most {_MAX_ID_LENGTH} characters")
    return value


def parse_credit_schema(raw: object) -> tuple[CreditCost, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)) or not raw:
        raise invalid("credit_schema must be a non-empty list")
    lines: list[CreditCost] = []
    for position, entry in enumerate(raw):
        where = f"credit_schema[{position}]"
        if not isinstance(entry, Mapping):
            raise invalid(f"{where} must be an object")
        feature_id = validate_id(entry.get("metered_feature_id"), f"{where}.metered_feature_id")
        cost = parse_amount(entry.get("credit_cost"), f"{where}.credit_cost")
        if cost <= 0:
            raise invalid(f"{where}.credit_cost must be greater than 0")
        if any(line.metered_feature_id == feature_id for line in lines):
            raise invalid(f"{where}.metered_feature_id {feature_id!r} appears twice")
        lines.append(CreditCost(feature_id, to_units(cost)))
    return tuple(lines)


def validate_credit_schema(
    schema: Sequence[CreditCost], features: Mapping[str, Feature], own_id: str
) -> None:
    """Only consumable metered features may be in a credit schema."""
    for line in schema:
        member = features.get(line.metered_feature_id)
        if line.metered_feature_id == own_id:
            raise invalid("credit_schema: a credit system cannot contain itself")
        if member is None:
            raise AllotmentError(
                ErrorCode.FEATURE_NOT_FOUND,
                f"credit_schema: feature {line.metered_feature_id!r} not found",
            )
        if member.type is FeatureType.CREDIT_SYSTEM:
            raise invalid(
                f"credit_schema: {member.feature_id!r} is a credit system; "
                "a credit system cannot contain another"
            )
        if member.type is not FeatureType.METERED or not member.consumable:
            raise invalid(
                f"credit_schema: {member.feature_id!r} must be a consumable metered feature"
            )


def parse_reset(raw: object, where: str = "") -> tuple[Interval | None, int]:
    """A `reset {interval, interval_count}` object; no reset (or `one_off`) is lifetime."""
    field = f"{where}.reset" if where else "reset"
    if raw is None:
        return None, 1
    if not isinstance(raw, Mapping):
        raise invalid(f"{field} must be an object")
    name = raw.get("interval")
    count = raw.get("interval_count", 1)
    if count is None:
        count = 1
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise invalid(f"{field}.interval_count must be an integer from 1 to 1000")
    if name in (None, "one_off", "lifetime"):
        return None, 1
    try:
        return Interval(name), count
    except ValueError:
        names = ", ".join(["one_off", *(i.value for i in Interval)])
        raise invalid(f"{field}.interval must be one of {names}") from None


def _parse_item(entry: object, where: str, features: Mapping[str, Feature]) -> PlanItem:
    if not isinstance(entry, Mapping):
        raise invalid(f"{where} must be an object")
    feature_id = validate_id(entry.get("feature_id"), f"{where}.feature_id")
    feature = features.get(feature_id)
    if feature is None:
        raise AllotmentError(
            ErrorCode.FEATURE_NOT_FOUND, f"{where}: feature {feature_id!r} not found"
        )
    unlimited = entry.get("unlimited", False)
    if not isinstance(unlimited, bool):
        raise invalid(f"{where}.unlimited must be true or false")
    raw_included = entry.get("included")
    included = (
        Decimal(0) if raw_included is None else parse_amount(raw_included, f"{where}.included")
    )
    interval, count = parse_reset(entry.get("reset"), where)
    if feature.type is FeatureType.BOOLEAN and (included or interval or unlimited):
        raise invalid(f"{where}: a boolean feature takes no included amount, reset or unlimited")
    if interval is not None and feature.type is FeatureType.METERED and not feature.consumable:
        raise invalid(f"{where}.reset: a non-consumable feature never resets")
    if unlimited and included:
        raise invalid(f"{where}: an unlimited item takes no included amount")
    if unlimited and entry.get("rollover") is not None:
        raise invalid(f"{where}.rollover: an unlimited item has nothing to roll over")
    parse_rollover(entry.get("rollover"), interval, where)
    extra = {
        key: entry[key] for key in ("price", "rollover", "proration") if entry.get(key) is not None
    }
    return PlanItem(feature_id, to_units(included), unlimited, interval, count, extra)


def parse_plan_items(raw: object, features: Mapping[str, Feature]) -> tuple[PlanItem, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise invalid("items must be a list")
    return tuple(_parse_item(entry, f"items[{i}]", features) for i, entry in enumerate(raw))


def cost_units_for(value_units: int, cost: int) -> int | None:
    """Credits (fixed-point) for `value_units` of a feature at `cost`; None if not exact."""
    credits, remainder = divmod(value_units * cost, SCALE)
    return None if remainder else credits

"""Domain objects -> result models (the JSON shapes of Autumn's responses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from allotment import wire as schemas
from allotment.domain.amounts import from_units
from allotment.domain.balances import BalanceView
from allotment.domain.catalog import Feature, FeatureType, Plan
from allotment.domain.clock import to_ms
from allotment.domain.grants import Grant, grant_ref
from allotment.domain.usage_outcomes import (
    BatchItemOutcome,
    CheckOutcome,
    EventsPage,
    ReversalOutcome,
    TrackOutcome,
)
from allotment.storage.records import CustomerPlanRecord, CustomerRecord, EntityRecord

# a never-expiring rollover: the official clients require a number for `expires_at`
NEVER_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
ONE_OFF = "one_off"  # the interval of a lifetime grant on the wire


def ms(moment: datetime | None) -> int | None:
    return to_ms(moment) if moment is not None else None


def _breakdown(grant: Grant) -> schemas.BalanceBreakdown:
    # a lifetime grant's row says so (Autumn: interval "one_off", resets_at null)
    reset = schemas.BalanceReset(
        interval=grant.interval.value if grant.interval is not None else ONE_OFF,
        interval_count=grant.interval_count,
        resets_at=ms(grant.next_reset_at),
    )
    return schemas.BalanceBreakdown(
        id=grant.external_id or grant_ref(grant.id),
        plan_id=grant.plan_id,
        included_grant=from_units(grant.granted),
        remaining=from_units(grant.remaining),
        usage=from_units(grant.usage),
        unlimited=grant.unlimited,
        reset=reset,
        expires_at=ms(grant.expires_at),
    )


def balance(view: BalanceView | None) -> schemas.Balance | None:
    if view is None:
        return None
    return schemas.Balance(
        feature_id=view.feature_id,
        granted=from_units(view.granted),
        remaining=from_units(view.remaining),
        usage=from_units(view.usage),
        unlimited=view.unlimited,
        overage_allowed=view.overage_allowed,
        max_purchase=None,
        next_reset_at=ms(view.next_reset_at),
        breakdown=[_breakdown(g) for g in view.grants if not g.is_rollover],
        rollovers=[
            schemas.BalanceRollover(
                granted=from_units(g.granted),
                balance=from_units(g.remaining),
                expires_at=to_ms(g.expires_at) if g.expires_at is not None else NEVER_MS,
            )
            for g in view.grants
            if g.is_rollover
        ]
        or None,
    )


def flag(feature_id: str, grants: Sequence[Grant]) -> schemas.Flag | None:
    own = [g for g in grants if g.feature_id == feature_id]
    if not own:
        return None
    first = own[0]
    return schemas.Flag(
        id=f"flag_{first.id}",
        plan_id=first.plan_id,
        expires_at=ms(first.expires_at),
        feature_id=feature_id,
    )


def check_result(outcome: CheckOutcome) -> schemas.CheckResponse:
    flag_grant = outcome.flag
    return schemas.CheckResponse(
        allowed=outcome.allowed,
        customer_id=outcome.customer_id,
        entity_id=outcome.entity_id,
        required_balance=outcome.required,
        balance=balance(outcome.view),
        flag=flag(outcome.feature_id, (flag_grant,)) if flag_grant is not None else None,
    )


def track_result(outcome: TrackOutcome) -> schemas.TrackResponse:
    return schemas.TrackResponse(
        id=f"evt_{outcome.event_id}" if outcome.event_id is not None else None,
        customer_id=outcome.customer_id,
        entity_id=outcome.entity_id,
        event_name=outcome.event_name,
        feature_id=outcome.feature_id,
        value=outcome.value,
        balance=balance(outcome.view),
    )


def batch_result(items: Sequence[BatchItemOutcome]) -> schemas.BatchTrackResponse:
    """Each event's outcome, without balances (a batch answers for up to 1,000 events)."""
    results = []
    for item in items:
        done = item.outcome
        if done is None:
            assert item.error is not None
            results.append(
                schemas.BatchTrackItem(
                    index=item.index,
                    success=False,
                    customer_id=item.customer_id,
                    code=item.error.code,
                    message=item.error.message,
                )
            )
            continue
        results.append(
            schemas.BatchTrackItem(
                index=item.index,
                success=True,
                id=f"evt_{done.event_id}" if done.event_id is not None else None,
                customer_id=done.customer_id,
                entity_id=done.entity_id,
                event_name=done.event_name,
                feature_id=done.feature_id,
                value=done.value,
            )
        )
    return schemas.BatchTrackResponse(results=results)


def reversal(outcome: ReversalOutcome) -> schemas.Reversal:
    return schemas.Reversal(
        id=f"evt_{outcome.event_id}",
        customer_id=outcome.customer_id,
        reversed_at=to_ms(outcome.reversed_at),
        entries=[
            schemas.ReversedEntry(
                balance_id=e.balance_id,
                feature_id=e.feature_id,
                amount=e.amount,
                restored=e.restored,
                reason=e.reason,
            )
            for e in outcome.entries
        ],
    )


def events_page(page: EventsPage) -> schemas.EventsPage:
    return schemas.EventsPage(
        list=[
            schemas.Event(
                id=f"evt_{r.id}",
                timestamp=to_ms(r.timestamp),
                feature_id=r.feature_id,
                event_name=r.event_name,
                customer_id=r.customer_id,
                value=r.value,
                properties=dict(r.properties),
                idempotency_key=r.idempotency_key,
            )
            for r in page.rows
        ],
        next_cursor=page.next_cursor,
    )


def feature(item: Feature) -> schemas.Feature:
    return schemas.Feature(
        id=item.feature_id,
        name=item.name if item.name is not None else item.feature_id,
        type=item.type.value,
        consumable=item.consumable,
        event_names=list(item.event_names),
        credit_schema=[
            schemas.CreditSchemaItem(
                metered_feature_id=line.metered_feature_id, credit_cost=line.credit_cost
            )
            for line in item.credit_schema
        ]
        if item.is_pool
        else None,
        display=dict(item.display) if item.display else None,
        archived=item.archived,
    )


def plan(item: Plan, env: str) -> schemas.Plan:
    return schemas.Plan(
        id=item.plan_id,
        name=item.name if item.name is not None else item.plan_id,
        description=item.description,
        group=item.group,
        version=item.version,
        add_on=item.add_on,
        auto_enable=item.auto_enable,
        items=[
            schemas.PlanItem(
                feature_id=i.feature_id,
                included=from_units(i.included),
                unlimited=i.unlimited,
                reset=schemas.PlanItemReset(interval=i.reset.value, interval_count=i.interval_count)
                if i.reset is not None
                else None,
                price=i.extra.get("price"),
                rollover=i.rollover.wire() if i.rollover is not None else None,
            )
            for i in item.items
        ],
        price={
            "amount": item.price.amount,
            "interval": item.price.interval,
            "interval_count": item.price.interval_count,
        }
        if item.price is not None
        else None,
        created_at=ms(item.created_at) or 0,
        env=env,
        archived=item.archived,
        metadata=dict(item.metadata),
    )


def balances_and_flags(
    grants: Sequence[Grant], features: Mapping[str, Feature]
) -> tuple[dict[str, schemas.Balance], dict[str, schemas.Flag]]:
    balances: dict[str, schemas.Balance] = {}
    flags: dict[str, schemas.Flag] = {}
    for feature_id in dict.fromkeys(g.feature_id for g in grants):
        known = features.get(feature_id)
        if known is not None and known.type is FeatureType.BOOLEAN:
            found = flag(feature_id, grants)
            if found is not None:
                flags[feature_id] = found
            continue
        view = BalanceView(feature_id, tuple(g for g in grants if g.feature_id == feature_id))
        presented = balance(view)
        if presented is not None:
            balances[feature_id] = presented
    return balances, flags


def subscription(attachment: CustomerPlanRecord, attached_plan: Plan) -> schemas.Subscription:
    return schemas.Subscription(
        id=f"sub_{attachment.id}",
        plan_id=attachment.plan_id,
        auto_enable=attached_plan.auto_enable,
        add_on=attached_plan.add_on,
        status=attachment.status,
        started_at=to_ms(attachment.started_at),
        version=attached_plan.version,
    )


def customer(
    record: CustomerRecord,
    env: str,
    attached: Sequence[tuple[CustomerPlanRecord, Plan]],
    grants: Sequence[Grant],
    features: Mapping[str, Feature],
) -> schemas.Customer:
    balances, flags = balances_and_flags(grants, features)
    return schemas.Customer(
        id=record.customer_id,
        name=record.name,
        email=record.email,
        created_at=to_ms(record.created_at),
        fingerprint=record.fingerprint,
        env=env,
        metadata=record.metadata,
        subscriptions=[subscription(a, p) for a, p in attached],
        balances=balances,
        flags=flags,
    )


def entity(
    record: EntityRecord,
    owner: CustomerRecord,
    env: str,
    attached: Sequence[tuple[CustomerPlanRecord, Plan]],
    grants: Sequence[Grant],
    features: Mapping[str, Feature],
) -> schemas.Entity:
    balances, flags = balances_and_flags(grants, features)
    return schemas.Entity(
        id=record.entity_id,
        name=record.name,
        customer_id=owner.customer_id,
        feature_id=record.feature_id,
        created_at=to_ms(record.created_at),
        env=env,
        subscriptions=[subscription(a, p) for a, p in attached],
        balances=balances,
        flags=flags,
    )

"""Use cases: check and track.

`check` answers from one balance (see domain.balances); with `send_event` it is a track with
`overage_behavior="reject"`, all or nothing; with `lock` it reserves the amount (see locks).
`track` records an event and deducts it atomically (see recording).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from allotment.domain.amounts import from_units, parse_amount, to_units
from allotment.domain.balances import BalanceView, allows, resolve_check
from allotment.domain.catalog import Feature, FeatureType, validate_id
from allotment.domain.clock import from_ms
from allotment.domain.deduction import OverageBehavior
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.domain.usage_outcomes import CheckOutcome, TrackOutcome
from allotment.services import _subjects as subjects
from allotment.services import features as feature_service
from allotment.services import locks as lock_service
from allotment.services._recording import answering_balance, group_by_feature, record
from allotment.services._subjects import Subject
from allotment.storage.store import Store


def _properties(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise invalid("properties must be an object")
    return dict(raw)


def _timestamp(raw: object, now: datetime) -> datetime:
    if raw is None:
        return now
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < 10**14:
        raise invalid("timestamp must be Unix milliseconds")
    return from_ms(raw)


def _behavior(raw: object) -> OverageBehavior:
    if raw is None:
        return OverageBehavior.CAP
    try:
        return OverageBehavior(str(raw))
    except ValueError:
        raise invalid("overage_behavior must be one of cap, overflow, reject") from None


def _idempotency_key(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw or len(raw) > 512:
        raise invalid("idempotency_key must be a non-empty string of at most 512 characters")
    return raw


def _features_to_track(store: Store, feature_id: object, event_name: object) -> list[Feature]:
    if (feature_id is None) == (event_name is None):
        raise invalid("exactly one of feature_id and event_name is required")
    if feature_id is not None:
        return [feature_service.require(store, feature_id)]
    if not isinstance(event_name, str) or not event_name:
        raise invalid("event_name must be a non-empty string")
    listening = [
        f
        for f in store.catalog.features_listening_to(event_name)
        if f.type is not FeatureType.BOOLEAN
    ]
    if not listening:
        raise AllotmentError(
            ErrorCode.FEATURE_NOT_FOUND, f"no feature listens to event_name {event_name!r}"
        )
    return listening


@dataclass(frozen=True)
class TrackInput:
    """One track, validated against the catalog: what `apply_track` records."""

    customer_id: str
    entity_id: str | None
    features: list[Feature]
    amount: Decimal
    value_units: int
    behavior: OverageBehavior
    event_name: str | None
    properties: dict[str, Any]
    timestamp: int | None
    idempotency_key: str | None


def prepare_track(
    store: Store,
    *,
    customer_id: str,
    feature_id: str | None = None,
    event_name: str | None = None,
    entity_id: str | None = None,
    value: Decimal | int | None = None,
    properties: Mapping[str, Any] | None = None,
    timestamp: int | None = None,
    idempotency_key: str | None = None,
    overage_behavior: str | None = None,
) -> TrackInput:
    """Validate one track (every refusal that does not depend on the customer's balances)."""
    amount = parse_amount(1 if value is None else value, "value", allow_negative=True)
    behavior = _behavior(overage_behavior)
    if event_name is not None and behavior is OverageBehavior.REJECT:
        raise invalid("overage_behavior reject cannot be used with event_name")
    key = _idempotency_key(idempotency_key)
    props = _properties(properties)
    tracked = _features_to_track(store, feature_id, event_name)
    validate_id(customer_id, "customer_id")
    if entity_id is not None:
        validate_id(entity_id, "entity_id")
    if timestamp is not None:
        _timestamp(timestamp, from_ms(0))
    name = event_name if isinstance(event_name, str) else None
    return TrackInput(
        customer_id,
        entity_id,
        tracked,
        amount,
        to_units(amount),
        behavior,
        name,
        props,
        timestamp,
        key,
    )


def track(store: Store, now: datetime, **fields: Any) -> TrackOutcome:
    """Record one event (`prepare_track`'s fields) and deduct it, atomically."""
    _prefetch(store, fields.get("customer_id"), lock=True)
    return apply_track(store, now, prepare_track(store, **fields))


def _prefetch(store: Store, customer_id: object, *, lock: bool) -> None:
    """Read the customer, the catalog version and its lapsing locks in one statement (the
    validation that follows still runs in its own order)."""
    if isinstance(customer_id, str):
        store.prefetch_customer(customer_id, lock=lock)


def apply_track(
    store: Store,
    now: datetime,
    given: TrackInput,
    subject: Subject | None = None,
    loaded: list[Grant] | None = None,
) -> TrackOutcome:
    """Record a prepared track. `subject`: the subject already resolved under the customer's
    lock; `loaded`: its grants as they stand (a batch carries them from event to event)."""
    tracked = given.features
    if tracked[0].type is FeatureType.BOOLEAN:
        return _track_flag(store, given.customer_id, given.entity_id, tracked[0], given.amount)
    if subject is None:
        subject = subjects.resolve(store, given.customer_id, given.entity_id, lock=True)
    now = subject.customer.time(now)
    moment = _timestamp(given.timestamp, now)
    key = given.idempotency_key
    if key is not None and store.events.key_used(key):
        raise AllotmentError(
            ErrorCode.DUPLICATE_IDEMPOTENCY_KEY, f"idempotency_key {key!r} was already used"
        )
    event_id, usages = record(
        store,
        now,
        subject,
        tracked,
        given.value_units,
        given.behavior,
        event_name=given.event_name,
        properties=given.properties,
        timestamp=moment,
        idempotency_key=key,
        loaded=loaded,
    )
    return TrackOutcome(
        customer_id=subject.customer.customer_id,
        entity_id=subject.entity_id,
        feature_id=tracked[0].feature_id if len(tracked) == 1 else None,
        value=given.amount,
        view=answering_balance(usages[0]) if len(usages) == 1 else None,
        event_id=event_id,
        event_name=given.event_name,
    )


def _track_flag(
    store: Store, customer_id: str, entity_id: str | None, feature: Feature, amount: Decimal
) -> TrackOutcome:
    """Autumn answers a track of a boolean feature with 200 and changes nothing: no event, no
    entry, the idempotency key is not used up, `balance` is null."""
    subject = subjects.resolve(store, customer_id, entity_id, lock=False)
    return TrackOutcome(
        customer_id=subject.customer.customer_id,
        entity_id=subject.entity_id,
        feature_id=feature.feature_id,
        value=amount,
        view=None,
    )


def check(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    feature_id: str | None,
    entity_id: str | None = None,
    required_balance: Decimal | int | None = None,
    send_event: bool | None = None,
    properties: Mapping[str, Any] | None = None,
    lock: Mapping[str, Any] | None = None,
    write: bool,
) -> CheckOutcome:
    required = parse_amount(
        1 if required_balance is None else required_balance, "required_balance", allow_negative=True
    )
    required_units = to_units(required)
    if send_event is not None and not isinstance(send_event, bool):
        raise invalid("send_event must be true or false")
    consume = bool(send_event) or (lock is not None and lock_service.enabled(lock))
    _prefetch(store, customer_id, lock=consume)
    feature = feature_service.require(store, feature_id)
    subject = subjects.resolve(store, customer_id, entity_id, lock=consume)
    now = subject.customer.time(now)
    reservation = lock_service.parse(lock, now)
    if feature.type is FeatureType.BOOLEAN:
        if consume:
            raise AllotmentError(
                ErrorCode.INVALID_REQUEST, "send_event and lock cannot be used on a boolean feature"
            )
        return _check_flag(store, now, subject, feature, required, write)
    pools = store.catalog.pools_containing(feature.feature_id)
    ids = [feature.feature_id, *(p.feature_id for p in pools)]
    grants = subjects.grants_of(store, subject, ids, now, write)
    resolution = resolve_check(feature, required_units, pools, group_by_feature(grants))
    allowed = allows(resolution.view, resolution.required)
    view = resolution.view
    if consume:
        # one deduction on the grants just read; None means refused (nothing written)
        args = (store, now, subject, feature, required_units)
        after: list[Grant] | None
        if reservation is not None:
            props = _properties(properties)
            after = lock_service.reserve(
                *args, props, reservation, grants, has_balance=view is not None
            )
        else:
            after = _consume(*args, properties, grants) if view is not None else None
        allowed = after is not None
        if view is not None and after is not None:
            grouped = group_by_feature(after)
            view = BalanceView(view.feature_id, tuple(grouped.get(view.feature_id, ())))
    return CheckOutcome(
        allowed=allowed,
        customer_id=subject.customer.customer_id,
        entity_id=subject.entity_id,
        feature_id=feature.feature_id,
        required=from_units(resolution.required),
        view=view,
    )


def _check_flag(
    store: Store, now: datetime, subject: Subject, feature: Feature, required: Decimal, write: bool
) -> CheckOutcome:
    grants = subjects.grants_of(store, subject, [feature.feature_id], now, write)
    flag = next((g for g in grants if g.feature_id == feature.feature_id), None)
    return CheckOutcome(
        allowed=flag is not None,
        customer_id=subject.customer.customer_id,
        entity_id=subject.entity_id,
        feature_id=feature.feature_id,
        required=required,
        view=None,
        flag=flag,
    )


def _consume(
    store: Store,
    now: datetime,
    subject: Subject,
    feature: Feature,
    required_units: int,
    properties: object,
    grants: list[Grant],
) -> list[Grant] | None:
    """The send_event part of check: a track with reject, on the grants check already read
    under the customer's lock. A refusal is raised before anything is written, so it leaves
    nothing behind (not even the event row). Returns the grants afterwards, or None."""
    try:
        _, usages = record(
            store,
            now,
            subject,
            [feature],
            required_units,
            OverageBehavior.REJECT,
            properties=_properties(properties),
            loaded=grants,
        )
    except AllotmentError as error:
        if error.code == ErrorCode.INSUFFICIENT_BALANCE:
            return None
        raise
    return usages[0].grants


def set_usage(
    store: Store,
    now: datetime,
    *,
    customer_id: str,
    feature_id: str,
    entity_id: str | None = None,
    value: Decimal | int,
) -> None:
    """Legacy `POST /v1/usage`: set the usage of a feature to `value` by tracking the
    difference (measured on the balance that answers for the feature, in its units)."""
    target = parse_amount(value, "value")  # bounded and exact before any arithmetic
    current = check(
        store, now, customer_id=customer_id, feature_id=feature_id, entity_id=entity_id, write=True
    )
    view = current.view
    used = from_units(view.usage) if view is not None else Decimal(0)
    if view is not None and view.feature_id != feature_id:
        cost = current.required or Decimal(1)  # the pool's credits for one unit
        used = used / cost
    delta = target - used
    if delta:
        track(
            store,
            now,
            customer_id=customer_id,
            feature_id=feature_id,
            entity_id=entity_id,
            value=delta.quantize(Decimal("0.000001")),
            overage_behavior="overflow",
        )

"""Locks: `check` with `lock: {lock_id, enabled: true, expires_at?}` reserves the required
amount by itself (a track with reject, all or nothing). `balances.finalize` then confirms it
(optionally with a different final value: less gives the difference back to the grants that
paid, more deducts the rest with cap, below zero gives everything back and refunds the
absolute value on top, as a negative track would) or releases it (everything goes back to the
grants that paid, each at most to its granted amount). A held lock past `expires_at` (default
and maximum: one day) releases itself the next time the customer's balances are read or
written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from allotment.domain.amounts import parse_amount, to_units
from allotment.domain.catalog import Feature, FeatureType
from allotment.domain.clock import from_ms, to_ms
from allotment.domain.deduction import OverageBehavior
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.services import customers as customer_service
from allotment.services import features as feature_service
from allotment.services._live_grants import restore_event_entries
from allotment.services._recording import deduct_more, record
from allotment.services._subjects import Subject, grants_of
from allotment.storage.records import CustomerRecord, LockRecord
from allotment.storage.store import Store

MAX_LOCK_LIFETIME = timedelta(days=1)


@dataclass(frozen=True)
class Reservation:
    lock_id: str
    expires_at: datetime


def enabled(raw: object) -> bool:
    """Whether `lock` asks for a reservation (its shape is checked by `parse`)."""
    return not isinstance(raw, Mapping) or raw.get("enabled", True) is not False


def parse(raw: object, now: datetime) -> Reservation | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise invalid("lock must be an object")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise invalid("lock.enabled must be true or false")
    if not enabled:
        return None
    lock_id = raw.get("lock_id")
    if not isinstance(lock_id, str) or not lock_id or len(lock_id) > 256:
        raise invalid("lock.lock_id must be a non-empty string of at most 256 characters")
    expires_raw = raw.get("expires_at")
    if expires_raw is None:
        return Reservation(lock_id, now + MAX_LOCK_LIFETIME)
    if isinstance(expires_raw, float) and expires_raw.is_integer():
        expires_raw = int(expires_raw)
    if isinstance(expires_raw, bool) or not isinstance(expires_raw, int):
        raise invalid("lock.expires_at must be Unix milliseconds")
    if not to_ms(now) < expires_raw <= to_ms(now + MAX_LOCK_LIFETIME):
        raise invalid("lock.expires_at must be in the future and at most 1 day ahead")
    return Reservation(lock_id, from_ms(expires_raw))


def reserve(
    store: Store,
    now: datetime,
    subject: Subject,
    feature: Feature,
    required_units: int,
    properties: dict[str, Any],
    reservation: Reservation,
    grants: list[Grant],
    *,
    has_balance: bool,
) -> list[Grant] | None:
    """Take the lock on the subject's `grants` (read in this transaction under the customer's
    lock). Returns the grants afterwards, or None when it is refused (nothing is written)."""
    if feature.type is not FeatureType.METERED or not feature.consumable:
        raise AllotmentError(ErrorCode.INVALID_REQUEST, "a lock needs a consumable metered feature")
    if store.locks.get(reservation.lock_id) is not None:
        raise AllotmentError(
            ErrorCode.LOCK_ALREADY_EXISTS, f"lock {reservation.lock_id!r} already exists"
        )
    event_id = None
    after = grants
    if required_units != 0:
        if not has_balance:
            return None
        try:
            event_id, usages = record(
                store,
                now,
                subject,
                [feature],
                required_units,
                OverageBehavior.REJECT,
                properties={**properties, "lock_id": reservation.lock_id},
                loaded=grants,
            )
        except AllotmentError as error:
            if error.code == ErrorCode.INSUFFICIENT_BALANCE:
                return None
            raise
        after = usages[0].grants
    store.locks.insert(
        lock_id=reservation.lock_id,
        customer_internal_id=subject.customer.internal_id,
        entity_internal_id=subject.entity_internal_id,
        feature_id=feature.feature_id,
        event_id=event_id,
        value=required_units,
        expires_at=reservation.expires_at,
        now=now,
    )
    return after


def finalize(
    store: Store,
    now: datetime,
    *,
    lock_id: str,
    action: str,
    override_value: Decimal | int | None = None,
) -> None:
    """Confirm or release a held lock. The lock's event then costs the final value: the
    lock's value, `override_value` on a confirm, 0 on a release (see `_settle`)."""
    if not isinstance(lock_id, str) or not lock_id:
        raise invalid("lock_id must be a non-empty string")
    if action not in ("confirm", "release"):
        raise invalid("action must be confirm or release")
    if override_value is not None and action != "confirm":
        raise invalid("override_value is only allowed with action confirm")
    final = None
    if override_value is not None:
        final = to_units(parse_amount(override_value, "override_value", allow_negative=True))
    lock = store.locks.get(lock_id)
    if lock is None:
        raise AllotmentError(ErrorCode.LOCK_NOT_FOUND, f"lock {lock_id!r} not found")
    customer = customer_service.require_internal(store, lock.customer_internal_id, lock=True)
    now = customer.time(now)
    grants = grants_of(store, Subject(customer), None, now, True)  # expires it if it is due
    lock = store.locks.get(lock_id)
    if lock is None or lock.status != "held":
        status = lock.status if lock is not None else "gone"
        raise AllotmentError(
            ErrorCode.LOCK_ALREADY_FINALIZED, f"lock {lock_id!r} is already {status}"
        )
    if action == "release":
        final = 0
    elif final is None:
        final = lock.value
    store.locks.finish(lock, "released" if action == "release" else "confirmed", final, now)
    _settle(store, now, customer, lock, grants, final)


def _settle(
    store: Store,
    now: datetime,
    customer: CustomerRecord,
    lock: LockRecord,
    grants: list[Grant],
    final: int,
) -> None:
    """Make the lock's event cost `final` units instead of the reserved `lock.value`:
    - less: the reservation goes back (all of it when `final` <= 0, else the difference) to
      the grants that paid, by the release rule (`restore_event_entries`);
    - below zero (or below a negative lock): the rest is a refund on top, by the rule of a
      negative track (reverse deduction order, each grant at most to its granted amount;
      what does not fit is recorded on the event as unapplied);
    - more: the rest is deducted with cap.
    A zero lock wrote no event: a confirm at another value records one, named by `lock_id`."""
    if final == lock.value:
        return
    subject = _subject_of(store, customer, lock)
    feature = feature_service.require(store, lock.feature_id)
    if lock.event_id is None:
        properties = {"lock_id": lock.lock_id}
        record(store, now, subject, [feature], final, OverageBehavior.CAP, properties=properties)
        return
    event_id = lock.event_id
    kept = max(final, 0)
    if lock.value > kept:
        # a release gives back every entry whole (units are rounded per entry, so counting
        # them down from the lock's value could stop a millionth short)
        units = None if kept == 0 else lock.value - kept
        restore_event_entries(store, grants, event_id, units, "release", now)
    # more usage on top (cap), or a refund beyond what the lock took (below zero)
    more = final - lock.value if final > lock.value else min(final - min(lock.value, 0), 0)
    if more:
        unapplied = deduct_more(store, now, subject, feature, more, event_id)
        if unapplied:
            event = store.events.find(event_id=event_id, idempotency_key=None)
            earlier = event.unapplied if event is not None else 0
            store.events.set_unapplied(event_id, earlier + unapplied)
    store.events.set_value(event_id, final)


def _subject_of(store: Store, customer: CustomerRecord, lock: LockRecord) -> Subject:
    entity = next(
        (
            e
            for e in store.entities.of_customer(customer.internal_id)
            if e.internal_id == lock.entity_internal_id
        ),
        None,
    )
    return Subject(customer, entity)

"""Use case: reverse one tracked event (`events.reverse`), by its id or its idempotency key.

Exactly what the event took goes back to the very grants that paid (net of what a lock release
or a lower confirmation already gave back), each entry a `reversal` in the ledger. The rule for
a grant that has changed since:
- a grant still live and in the same cycle gets its credits back, at most up to its granted
  amount (Autumn's refund rule: a balance set higher since is not raised further);
- a grant that has since reset, expired, been revoked or been replaced gets nothing back: the
  new cycle's allowance is not raised by old usage. What was not restored is recorded as an
  `unrestored` entry of amount 0 naming the grant, the units and the reason.
The event is marked reversed once (compare-and-set), so a second reversal is refused, and it
no longer counts in `events.aggregate`.
"""

from __future__ import annotations

from datetime import datetime

from allotment.domain.amounts import from_units
from allotment.domain.catalog import validate_id
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.give_back import plan_give_back
from allotment.domain.grants import grant_ref
from allotment.domain.usage_outcomes import ReversalOutcome, ReversedEntry
from allotment.services import customers as customer_service
from allotment.services._changes import apply_changes
from allotment.services._live_grants import give_back_entries, live_grants
from allotment.storage.records import EventRecord
from allotment.storage.store import Store


def _event_id(raw: object) -> int:
    text = validate_id(raw, "event_id")
    digits = text.removeprefix("evt_")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise AllotmentError(ErrorCode.EVENT_NOT_FOUND, f"event {text!r} not found")
    return int(digits)


def _find(store: Store, event_id: object, idempotency_key: object) -> EventRecord:
    if (event_id is None) == (idempotency_key is None):
        raise invalid("exactly one of event_id and idempotency_key is required")
    if event_id is not None:
        event = store.events.find(event_id=_event_id(event_id), idempotency_key=None)
        named = f"event {event_id!r}"
    else:
        key = validate_id(idempotency_key, "idempotency_key")
        event = store.events.find(event_id=None, idempotency_key=key)
        named = f"no event has idempotency_key {key!r}"
    if event is None:
        raise AllotmentError(
            ErrorCode.EVENT_NOT_FOUND,
            f"{named} not found" if event_id is not None else named,
        )
    return event


def reverse(
    store: Store, now: datetime, *, event_id: str | None = None, idempotency_key: str | None = None
) -> ReversalOutcome:
    event = _find(store, event_id, idempotency_key)
    assert event.customer_internal_id is not None
    customer = customer_service.require_internal(store, event.customer_internal_id, lock=True)
    if customer.deleted:
        raise AllotmentError(
            ErrorCode.CUSTOMER_NOT_FOUND, f"the customer of event evt_{event.id} was deleted"
        )
    now = customer.time(now)
    grants = live_grants(store, customer.internal_id, None, now, write=True)  # lapses locks
    if store.locks.held_for_event(event.id):
        raise AllotmentError(
            ErrorCode.INVALID_REQUEST,
            "this event is a held lock: release it with balances.finalize instead",
        )
    if event.reversed_at is not None or not store.events.mark_reversed(event.id, now):
        raise AllotmentError(
            ErrorCode.EVENT_ALREADY_REVERSED, f"event evt_{event.id} was already reversed"
        )
    live = {g.id: g for g in grants}
    plans = plan_give_back(store.grants.entries_of_event(event.id), live, "reversal")
    payers = store.grants.by_ids([plan.grant_id for plan in plans])
    report: list[ReversedEntry] = []
    for plan in plans:
        payer = payers[plan.grant_id]
        report.append(
            ReversedEntry(
                balance_id=payer.external_id or grant_ref(payer.id),
                feature_id=payer.feature_id,
                amount=from_units(plan.owed),
                restored=from_units(plan.credits),
                reason=plan.reason,
            )
        )
    apply_changes(store, grants, give_back_entries(plans, event.id, now), now)
    return ReversalOutcome(
        event_id=event.id, customer_id=customer.customer_id, reversed_at=now, entries=tuple(report)
    )

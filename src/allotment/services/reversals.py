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

from allotment import wire as schemas
from allotment.domain.amounts import from_units
from allotment.domain.catalog import validate_id
from allotment.domain.clock import to_ms
from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.services import customers as customer_service
from allotment.services.balances import live_grants
from allotment.services.changes import apply_changes
from allotment.storage.records import EntryRecord, EventRecord
from allotment.storage.store import Store
from allotment.wire.present import grant_ref

_RETURNED = ("release", "refund", "reversal")


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


def _room(grant: Grant | None, entry: EntryRecord, owed: int) -> tuple[int, str | None]:
    """How much of `owed` may go back to the grant that paid `entry`, and why not all."""
    if grant is None:
        return 0, "the grant has expired or been revoked since"
    if not grant.takes_back(entry.effective_at):
        return 0, "the grant has reset since"
    back = min(owed, max(grant.granted - grant.balance, 0))
    return back, None if back == owed else "the grant is already back to its granted amount"


def reverse(
    store: Store, now: datetime, *, event_id: object = None, idempotency_key: object = None
) -> schemas.Reversal:
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
    recorded = store.grants.entries_of_event(event.id)
    returned: dict[int, int] = {}
    for entry in recorded:
        if entry.kind in _RETURNED:
            returned[entry.grant_id] = returned.get(entry.grant_id, 0) + entry.amount
    usages = [e for e in recorded if e.kind == "usage"]
    payers = store.grants.by_ids([e.grant_id for e in usages])
    ledger: list[EntryRecord] = []
    report: list[schemas.ReversedEntry] = []
    for entry in reversed(usages):
        paid = -entry.amount
        already = min(returned.get(entry.grant_id, 0), paid)
        returned[entry.grant_id] = returned.get(entry.grant_id, 0) - already
        owed = paid - already
        if owed <= 0:
            continue
        grant = live.get(entry.grant_id)
        back, reason = _room(grant, entry, owed)
        if grant is not None and back:
            units = (entry.units or 0) * back // paid
            ledger.append(
                EntryRecord(
                    entry.grant_id, "reversal", back, now, event.id, -units, entry.feature_id
                )
            )
            live[entry.grant_id] = grant.with_balance(grant.balance + back)
        if back < owed:
            units = (entry.units or 0) * (owed - back) // paid
            ledger.append(
                EntryRecord(
                    entry.grant_id, "unrestored", 0, now, event.id, -units, entry.feature_id
                )
            )
        payer = payers[entry.grant_id]
        report.append(
            schemas.ReversedEntry(
                balance_id=payer.external_id or grant_ref(payer.id),
                feature_id=payer.feature_id,
                amount=from_units(owed),
                restored=from_units(back),
                reason=reason,
            )
        )
    apply_changes(store, grants, ledger, now)
    return schemas.Reversal(
        id=f"evt_{event.id}",
        customer_id=customer.customer_id,
        reversed_at=to_ms(now),
        entries=report,
    )

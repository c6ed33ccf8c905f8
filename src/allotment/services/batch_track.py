"""Use case: a batch of tracks (`balances.batch_track`, the embedded `track_many`).

The whole batch is validated first (`validate`): one item that a single track would refuse
before looking at balances (bad value, unknown feature, ...) refuses the batch, naming its
index, and nothing is written. Then the events of each customer are applied in one transaction
(`apply_group`), in the order given: the customer is locked and its grants read once, each event
is recorded exactly as a single track records it (services.usage.apply_track, on the grants as
the earlier events of the batch left them) with its writes held back, and the writes are
flushed together (storage.write_buffer). Each event keeps its own idempotency key and its own
outcome: a duplicate key, an unknown entity or a refusal fails that event only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from allotment.domain.errors import AllotmentError, ErrorCode, invalid
from allotment.domain.grants import Grant
from allotment.domain.usage_outcomes import BatchItemOutcome
from allotment.services import _subjects as subjects
from allotment.services import customers as customer_service
from allotment.services._live_grants import live_grants
from allotment.services._subjects import Subject
from allotment.services.usage import TrackInput, apply_track, prepare_track
from allotment.storage.store import Store
from allotment.storage.write_buffer import WriteBuffer

__all__ = ["MAX_EVENTS", "apply_group", "by_customer", "validate"]

MAX_EVENTS = 1000


def validate(store: Store, items: Sequence[Mapping[str, Any]]) -> list[TrackInput]:
    """Every item prepared as a single track prepares it; the first refusal refuses the batch
    (its message starts with the item's index)."""
    if not 1 <= len(items) <= MAX_EVENTS:
        raise invalid(f"a batch holds 1 to {MAX_EVENTS} events, not {len(items)}")
    prepared = []
    for index, fields in enumerate(items):
        try:
            prepared.append(prepare_track(store, **fields))
        except AllotmentError as error:
            raise AllotmentError(error.code, f"[{index}]: {error.message}") from None
    return prepared


def by_customer(
    prepared: Sequence[TrackInput],
) -> tuple[list[list[tuple[int, TrackInput]]], list[BatchItemOutcome]]:
    """The batch's events grouped by customer (first appearance first), each group in the
    order given, with each event's index in the batch; and the events refused up front: an
    event whose idempotency key an earlier event of another customer carries is a duplicate
    (the groups are applied one customer after the other, so the list order decides who holds
    a key, not the group order)."""
    groups: dict[str, list[tuple[int, TrackInput]]] = {}
    holder: dict[str, str] = {}
    refused = []
    for index, given in enumerate(prepared):
        key = given.idempotency_key
        if key is not None and holder.setdefault(key, given.customer_id) != given.customer_id:
            error = AllotmentError(
                ErrorCode.DUPLICATE_IDEMPOTENCY_KEY,
                f"idempotency_key {key!r} is carried by an earlier event of this batch",
            )
            refused.append(BatchItemOutcome(index, given.customer_id, error=error))
            continue
        groups.setdefault(given.customer_id, []).append((index, given))
    return list(groups.values()), refused


def apply_group(
    store: Store, now: datetime, group: Sequence[tuple[int, TrackInput]]
) -> list[BatchItemOutcome]:
    """Apply one customer's events of a batch, in order, in the caller's transaction."""
    customer_id = group[0][1].customer_id
    try:
        customer = customer_service.require(store, customer_id, lock=True)
    except AllotmentError as error:
        return [BatchItemOutcome(index, customer_id, error=error) for index, _ in group]
    loaded = live_grants(store, customer.internal_id, None, customer.time(now), write=True)
    keys = {given.idempotency_key for _, given in group if given.idempotency_key is not None}
    buffer = store.hold_writes(len(group), keys)
    seen: dict[str | None, Subject] = {None: Subject(customer)}
    state = {grant.id: grant for grant in loaded}  # the grants as the batch leaves them
    outcomes = []
    for index, given in group:
        try:
            subject = seen.get(given.entity_id)
            if subject is None:
                entity = subjects.require_entity(store, customer, given.entity_id)
                subject = seen[given.entity_id] = Subject(customer, entity)
            current = [state[grant.id] for grant in loaded if subject.sees(grant)]
            outcome = apply_track(store, now, given, subject, current)
            outcomes.append(BatchItemOutcome(index, customer_id, outcome=outcome))
        except AllotmentError as error:
            outcomes.append(BatchItemOutcome(index, customer_id, error=error))
            continue
        _catch_up(state, loaded, buffer)
    store.flush_writes()
    return outcomes


def _catch_up(state: dict[int, Grant], loaded: Sequence[Grant], buffer: WriteBuffer) -> None:
    """Bring `state` to the balances the held changes leave (loaded balance + held delta)."""
    for grant in loaded:
        delta = buffer.held_delta(grant.id)
        if state[grant.id].balance != grant.balance + delta:
            state[grant.id] = grant.with_balance(grant.balance + delta)

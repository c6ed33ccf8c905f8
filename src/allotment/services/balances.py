"""Loading a customer's grants with every due reset applied, and writing balance changes
with their ledger entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from allotment.domain.grants import Grant
from allotment.domain.resets import due_reset
from allotment.services.errors import NeedsWrite
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store


def live_grants(
    store: Store,
    customer_internal_id: int,
    feature_ids: Sequence[str] | None,
    now: datetime,
    *,
    write: bool,
) -> list[Grant]:
    """The customer's active grants, reset where a boundary has passed (compare-and-set on
    `next_reset_at`, so two writers never reset the same period twice)."""
    grants = store.grants.active(customer_internal_id, feature_ids)
    resets = [r for r in (due_reset(g, now) for g in grants) if r is not None]
    if not resets:
        return grants
    if not write:
        raise NeedsWrite
    applied: dict[int, Grant] = {}
    entries: list[EntryRecord] = []
    for reset in resets:
        if not store.grants.reset(reset.after, reset.before.next_reset_at):
            continue  # someone else reset it first; re-read below
        applied[reset.after.id] = reset.after
        if reset.amount:
            entries.append(EntryRecord(reset.after.id, "reset", reset.amount, reset.boundary_at))
    store.grants.append_entries(entries, now)
    if len(applied) != len(resets):
        return store.grants.active(customer_internal_id, feature_ids)
    return [applied.get(g.id, g) for g in grants]


def apply_changes(
    store: Store, grants: Sequence[Grant], entries: Sequence[EntryRecord], now: datetime
) -> list[Grant]:
    """Write the entries and move each touched balance by the sum of its entries. Returns the
    grants as they are afterwards."""
    deltas: dict[int, int] = {}
    for entry in entries:
        deltas[entry.grant_id] = deltas.get(entry.grant_id, 0) + entry.amount
    deltas = {gid: delta for gid, delta in deltas.items() if delta}
    store.grants.add_to_balances(deltas)
    store.grants.append_entries(entries, now)
    return [g.with_balance(g.balance + deltas.get(g.id, 0)) for g in grants]

"""The one way a balance changes: ledger entries written, and each touched balance moved by
the sum of its entries."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from allotment.domain.grants import Grant
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store


def apply_changes(
    store: Store,
    grants: Sequence[Grant],
    entries: Sequence[EntryRecord],
    now: datetime,
    past_floor: Collection[int] = (),
) -> list[Grant]:
    """Write the entries and move each touched balance by the sum of its entries. Returns the
    grants as they are afterwards."""
    deltas: dict[int, int] = {}
    for entry in entries:
        deltas[entry.grant_id] = deltas.get(entry.grant_id, 0) + entry.amount
    deltas = {gid: delta for gid, delta in deltas.items() if delta}
    store.grants.add_to_balances(deltas, past_floor)
    store.grants.append_entries(entries, now)
    return [g.with_balance(g.balance + deltas[g.id]) if g.id in deltas else g for g in grants]

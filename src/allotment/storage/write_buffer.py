"""Writes held back for a batch of events of one customer, flushed together at the end of its
transaction (`Store.hold_writes` / `Store.flush_writes`).

While writes are held, `EventStore.insert` hands out event ids reserved up front and keeps the
row, `GrantStore.add_to_balances` sums each grant's change, `GrantStore.append_entries` keeps
the entries, and `EventStore.key_used` also sees the keys of held events. Nothing else changes:
the services plan each event exactly as they would alone (the domain is the only place the
rules live), on balances the caller carries from one event to the next (`held_delta`), since
balances read from the database are those from before the batch. The flush writes the events,
then their entries, then each touched balance once by the sum of its changes, under the same
floor guard as a single change (a grant any held change meant to take past its floor is
flagged so for the sum).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WriteBuffer"]


@dataclass
class WriteBuffer:
    event_ids: Iterator[int]  # reserved up front (EventStore.reserve_ids)
    used_keys: set[str]  # idempotency keys already in the database, as read at the start
    events: list[dict[str, Any]] = field(default_factory=list)
    events_by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    deltas: dict[int, int] = field(default_factory=dict)
    past_floor: set[int] = field(default_factory=set)

    def add_event(self, row: dict[str, Any]) -> int:
        event_id = next(self.event_ids)
        row["id"] = event_id
        self.events.append(row)
        self.events_by_id[event_id] = row
        if row["idempotency_key"] is not None:
            self.used_keys.add(row["idempotency_key"])
        return event_id

    def add_changes(self, changes: Mapping[int, int], past_floor: Collection[int]) -> None:
        for grant_id, delta in changes.items():
            self.deltas[grant_id] = self.deltas.get(grant_id, 0) + delta
        self.past_floor.update(past_floor)

    def held_delta(self, grant_id: int) -> int:
        """What the held changes add to a grant's balance as read before the batch."""
        return self.deltas.get(grant_id, 0)

"""Applying due resets, with their rollovers, to grants read under the customer's lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from allotment.domain.grants import Grant
from allotment.domain.resets import Reset, due_reset
from allotment.domain.rollovers import RolloverPiece, play_boundaries
from allotment.services._changes import apply_changes
from allotment.storage.records import EntryRecord
from allotment.storage.store import Store

_NEVER = datetime.max


def apply_resets(store: Store, grants: Sequence[Grant], now: datetime) -> None:
    """Reset every grant whose boundary has passed (compare-and-set on `next_reset_at`, so two
    writers never reset the same period twice) and roll its leftovers over."""
    entries: list[EntryRecord] = []
    for grant in grants:
        reset = due_reset(grant, now)
        if reset is None or not store.grants.reset(reset.after, grant.next_reset_at):
            continue  # nothing due, or someone else reset it first
        if reset.amount:
            entries.append(EntryRecord(grant.id, "reset", reset.amount, reset.boundary_at))
        if grant.rollover is not None:
            _roll_over(store, reset, grants, now)
    store.grants.append_entries(entries, now)  # the CAS above already wrote the balances


def _piece_order(grant: Grant) -> tuple[datetime, int]:
    expires = grant.expires_at.replace(tzinfo=None) if grant.expires_at else _NEVER
    return expires, grant.id


def _roll_over(store: Store, reset: Reset, grants: Sequence[Grant], now: datetime) -> None:
    """Play the boundaries this reset crossed against the grant's live rollovers: new pieces
    are inserted as rollover grants, existing ones grow (never-expiring) or are trimmed to the
    cap, oldest first, each change a ledger entry (`rollover`, `trim`); a piece left empty
    is closed."""
    parent = reset.before
    assert parent.rollover is not None and parent.interval is not None
    assert parent.anchor_at is not None
    existing = sorted((g for g in grants if g.source_grant_id == parent.id), key=_piece_order)
    plan = play_boundaries(
        parent.rollover,
        anchor=parent.anchor_at,
        interval=parent.interval,
        count=parent.interval_count,
        granted=parent.granted,
        balance=parent.balance,
        first=parent.reset_index + 1,
        last=reset.after.reset_index,
        existing=[RolloverPiece(g.balance, g.expires_at, now, g.id) for g in existing],
        now=now,
    )
    entries: list[EntryRecord] = []
    emptied: list[int] = []
    for piece in plan.pieces:
        if piece.grant_id is None:
            if piece.balance > 0:
                grant_id = store.grants.insert(_rollover_grant(parent, piece))
                entries.append(EntryRecord(grant_id, "rollover", piece.balance, piece.born_at))
            continue
        if piece.added:
            entries.append(EntryRecord(piece.grant_id, "rollover", piece.added, reset.boundary_at))
        if piece.trimmed:
            entries.append(EntryRecord(piece.grant_id, "trim", -piece.trimmed, reset.boundary_at))
        if piece.added or piece.trimmed:
            store.grants.add_to_granted(piece.grant_id, piece.added - piece.trimmed)
        if piece.balance <= 0:
            emptied.append(piece.grant_id)
    apply_changes(store, [], entries, now)
    store.grants.deactivate(emptied)


def _rollover_grant(parent: Grant, piece: RolloverPiece) -> Grant:
    return replace(
        parent,
        id=0,
        granted=piece.balance,
        balance=0,
        unlimited=False,
        interval=None,
        interval_count=1,
        anchor_at=piece.born_at,
        next_reset_at=None,
        reset_index=0,
        expires_at=piece.expires_at,
        usage_allowed=False,
        floor=0,
        created_at=piece.born_at,
        rollover=None,
        source_grant_id=parent.id,
        external_id=None,  # a balance_id names its grant only (unique per customer)
    )

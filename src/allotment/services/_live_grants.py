"""A customer's live grants: loaded with every due expiry, reset and lock lapse applied; and
giving back what an event's entries took (a lock's release, lower confirmation or lapse, and a
reversal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from allotment.domain.give_back import GiveBack, plan_give_back
from allotment.domain.grants import Grant
from allotment.domain.resets import due_reset
from allotment.services._changes import apply_changes
from allotment.services._errors import NeedsWrite
from allotment.services._resets import apply_resets
from allotment.storage.records import EntryRecord, LockRecord
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
    expired = store.locks.expired_held(customer_internal_id, now)
    if expired and not write:
        raise NeedsWrite
    if expired:
        store.customers.get_internal(customer_internal_id, lock=True)
    for lock in sorted(expired, key=lambda held: (held.expires_at, held.id)):
        # in time order: what fell due before the lapse (expiries, resets and their
        # rollovers) happens first, so the lapse gives back to the grants as they were then
        _catch_up(store, customer_internal_id, lock.expires_at)
        _expire_lock(store, lock, now)
    grants = store.grants.active(customer_internal_id, feature_ids)
    if any(g.expires_at is not None and g.expires_at <= now for g in grants):
        if not write:
            raise NeedsWrite
        grants = _expire_grants(store, customer_internal_id, feature_ids, now)
    if not any(due_reset(g, now) is not None for g in grants):
        return grants
    if not write:
        raise NeedsWrite
    # every writer of balances holds the customer's lock: take it (a no-op when held), then
    # read again, so the reset entries are computed from balances nobody else is changing
    store.customers.get_internal(customer_internal_id, lock=True)
    grants = store.grants.active(customer_internal_id, feature_ids)
    apply_resets(store, grants, now)
    return store.grants.active(customer_internal_id, feature_ids)


def restore_event_entries(
    store: Store,
    grants: Sequence[Grant],
    event_id: int,
    units_to_restore: int | None,
    kind: str,
    now: datetime,
) -> list[Grant]:
    """Give back, at instant `now`, what an event's usage entries took, by the one give-back
    rule (`domain/give_back.py` `plan_give_back`, as a reversal does): to the very grants that
    paid, last entry first, each at most to its granted amount; a grant revoked, expired or
    reset since gets nothing back; what is not given back is an `unrestored` entry of amount
    0. `units_to_restore` limits how many feature units go back (None: all of them)."""
    live = {g.id: g for g in grants}
    recorded = store.grants.entries_of_event(event_id)
    plans = plan_give_back(recorded, live, kind, units_to_restore)
    return apply_changes(store, grants, give_back_entries(plans, event_id, now), now)


def give_back_entries(plans: Sequence[GiveBack], event_id: int, now: datetime) -> list[EntryRecord]:
    """The ledger entries of planned give-backs: the credits given back (the plan's kind), then
    an `unrestored` entry of amount 0 for what was not."""
    entries: list[EntryRecord] = []
    for plan in plans:
        if plan.credits:
            entries.append(
                EntryRecord(
                    plan.grant_id,
                    plan.kind,
                    plan.credits,
                    now,
                    event_id,
                    -plan.units,
                    plan.feature_id,
                )
            )
        if plan.reason is not None:
            entries.append(
                EntryRecord(
                    plan.grant_id,
                    "unrestored",
                    0,
                    now,
                    event_id,
                    -plan.unrestored_units,
                    plan.feature_id,
                )
            )
    return entries


def _catch_up(store: Store, customer_internal_id: int, at: datetime) -> None:
    """Apply the expiries and resets due at or before `at` (a past instant)."""
    grants = store.grants.active(customer_internal_id, None)
    if any(g.expires_at is not None and g.expires_at <= at for g in grants):
        grants = _expire_grants(store, customer_internal_id, None, at)
    if any(due_reset(g, at) is not None for g in grants):
        apply_resets(store, grants, at)


def _expire_lock(store: Store, lock: LockRecord, now: datetime) -> None:
    """A held lock past `expires_at` releases itself (lazily, like resets)."""
    if not store.locks.finish(lock, "expired", 0, now):
        return
    if lock.event_id is not None:
        grants = store.grants.active(lock.customer_internal_id, None)
        restore_event_entries(store, grants, lock.event_id, None, "release", lock.expires_at)
        store.events.set_value(lock.event_id, 0)


def _expire_grants(
    store: Store, customer_internal_id: int, feature_ids: Sequence[str] | None, now: datetime
) -> list[Grant]:
    """A grant stops counting at the instant it expires: what is left of it is written off
    with an `expire` entry dated at `expires_at`, and the grant is closed."""
    store.customers.get_internal(customer_internal_id, lock=True)
    grants = store.grants.active(customer_internal_id, feature_ids)
    expired = [g for g in grants if g.expires_at is not None and g.expires_at <= now]
    entries = [
        EntryRecord(g.id, "expire", -g.balance, g.expires_at or now) for g in expired if g.balance
    ]
    apply_changes(store, expired, entries, now)
    store.grants.deactivate([g.id for g in expired])
    return [g for g in grants if g not in expired]

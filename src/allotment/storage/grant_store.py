"""SQL for grants (balance rows) and the append-only ledger of entries."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from allotment.domain.clock import from_ms, to_ms
from allotment.domain.errors import OverdrawRefused
from allotment.domain.grants import Grant
from allotment.domain.intervals import Interval
from allotment.domain.rollovers import RolloverRule
from allotment.storage.raw import RawStatement
from allotment.storage.records import EntryRecord
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import entries, grants
from allotment.storage.write_buffer import WriteBuffer


def _ms(moment: datetime | None) -> int | None:
    return to_ms(moment) if moment is not None else None


def _moment(ms: int | None) -> datetime | None:
    return from_ms(ms) if ms is not None else None


_ACTIVE_SQL = (
    "SELECT * FROM grants WHERE org = :tenant_org AND env = :tenant_env"
    " AND customer_internal_id = :customer AND active = :active{features} ORDER BY id"
)
_ACTIVE = RawStatement(_ACTIVE_SQL.format(features=""))
_ACTIVE_OF_FEATURES: dict[int, RawStatement] = {}
# The floor guard (DESIGN.md "Floors"): a change that lowers a balance leaves the grant at or
# above 0, or, for a pay-per-use grant, at or above its `floor` (NULL: no floor); an unlimited
# grant has no floor; `past_floor` is a grant the caller means to take past its floor. A
# refused change matches no row (`add_to_balances` counts them).
_FLOOR_GUARD = (
    " AND (:delta >= 0 OR :past_floor OR unlimited OR balance + :delta >= 0"
    " OR (usage_allowed AND (floor IS NULL OR balance + :delta >= floor)))"
)
_ADD_TO_BALANCE = RawStatement(
    "UPDATE grants SET balance = balance + :delta"
    " WHERE org = :tenant_org AND env = :tenant_env AND id = :grant_id" + _FLOOR_GUARD
)
_APPEND_ENTRY = RawStatement(
    "INSERT INTO entries (org, env, grant_id, event_id, kind, amount, units, feature_id,"
    " effective_at, created_at, note) VALUES (:org, :env, :grant_id, :event_id, :kind, :amount,"
    " :units, :feature_id, :effective_at, :created_at, :note)"
)


def _active_of(count: int) -> RawStatement:
    statement = _ACTIVE_OF_FEATURES.get(count)
    if statement is None:
        names = ", ".join(f":feature_{n}" for n in range(count))
        statement = RawStatement(_ACTIVE_SQL.format(features=f" AND feature_id IN ({names})"))
        _ACTIVE_OF_FEATURES[count] = statement
    return statement


class GrantStore(ScopedStore):
    buffer: WriteBuffer | None = None  # writes held for a batch (Store.hold_writes)

    @staticmethod
    def _grant(row: Any) -> Grant:
        return Grant(
            id=row["id"],
            customer_internal_id=row["customer_internal_id"],
            feature_id=row["feature_id"],
            granted=row["granted"],
            balance=row["balance"],
            unlimited=bool(row["unlimited"]),
            interval=Interval(row["reset_interval"]) if row["reset_interval"] else None,
            interval_count=row["interval_count"],
            anchor_at=from_ms(row["anchor_at"]),
            next_reset_at=_moment(row["next_reset_at"]),
            reset_index=row["reset_index"],
            expires_at=_moment(row["expires_at"]),
            plan_id=row["plan_id"],
            customer_plan_id=row["customer_plan_id"],
            add_on=bool(row["add_on"]),
            usage_allowed=bool(row["usage_allowed"]),
            floor=row["floor"],
            created_at=from_ms(row["created_at"]),
            entity_internal_id=row["entity_internal_id"],
            external_id=row["external_id"],
            rollover=RolloverRule.from_json(row["rollover"]),
            source_grant_id=row["source_grant_id"],
        )

    def active(
        self, customer_internal_id: int, feature_ids: Sequence[str] | None = None
    ) -> list[Grant]:
        """The customer's live grants, in id order (the order PostgreSQL locks them in)."""
        params = self._scope(customer=customer_internal_id, active=True)
        if feature_ids is None:
            rows = _ACTIVE.rows(self._connection, params)
        elif not feature_ids:
            return []
        else:
            params.update({f"feature_{n}": f for n, f in enumerate(feature_ids)})
            rows = _active_of(len(feature_ids)).rows(self._connection, params)
        return [self._grant(r) for r in rows]

    def by_ids(self, grant_ids: Sequence[int]) -> dict[int, Grant]:
        """Grants by id, live or not."""
        if not grant_ids:
            return {}
        rows = self._connection.execute(
            select(grants).where(self._tenant(grants), grants.c.id.in_(list(set(grant_ids))))
        ).mappings()
        return {row["id"]: self._grant(row) for row in rows}

    def rollovers_of(self, customer_internal_id: int, grant_id: int) -> list[Grant]:
        return [g for g in self.active(customer_internal_id) if g.source_grant_id == grant_id]

    def insert(self, grant: Grant) -> int:
        return int(
            self._connection.execute(
                insert(grants)
                .values(
                    org=self._org,
                    env=self._env,
                    customer_internal_id=grant.customer_internal_id,
                    entity_internal_id=grant.entity_internal_id,
                    external_id=grant.external_id,
                    feature_id=grant.feature_id,
                    customer_plan_id=grant.customer_plan_id,
                    plan_id=grant.plan_id,
                    active=True,
                    granted=grant.granted,
                    balance=grant.balance,
                    unlimited=grant.unlimited,
                    reset_interval=grant.interval.value if grant.interval else None,
                    interval_count=grant.interval_count,
                    anchor_at=_ms(grant.anchor_at),
                    next_reset_at=_ms(grant.next_reset_at),
                    reset_index=grant.reset_index,
                    expires_at=_ms(grant.expires_at),
                    add_on=grant.add_on,
                    usage_allowed=grant.usage_allowed,
                    floor=grant.floor,
                    created_at=_ms(grant.created_at),
                    rollover=grant.rollover.to_json() if grant.rollover else None,
                    source_grant_id=grant.source_grant_id,
                )
                .returning(grants.c.id)
            ).scalar_one()
        )

    def add_to_balances(self, changes: Mapping[int, int], past_floor: Collection[int] = ()) -> None:
        """balance := balance + delta for each grant id -> delta (one executemany), guarded:
        a change that would take a grant below its floor (`_FLOOR_GUARD`) changes nothing and
        raises `OverdrawRefused`; the caller's transaction then rolls back, with whatever else
        it wrote. `past_floor`: the grants the caller means to take past their floor (the
        first candidate under `overflow`, a continuous-use allocation past its grant, a manual
        adjustment)."""
        if self.buffer is not None:
            self.buffer.add_changes(changes, past_floor)
            return
        if not changes:
            return
        named = set(past_floor)
        params = [
            self._scope(grant_id=gid, delta=delta, past_floor=gid in named)
            for gid, delta in changes.items()
        ]
        if _ADD_TO_BALANCE.many(self._connection, params) < len(params):
            lowered = [g for g, d in changes.items() if d < 0 and g not in named]
            raise OverdrawRefused(lowered or list(changes))

    def reset(self, grant: Grant, expected_next_reset_at: datetime | None) -> bool:
        """Compare-and-set: write the reset only if nobody reset this grant first. The balance
        becomes `granted` (never negative), so no floor guard is needed: floors are <= 0."""
        result = self._connection.execute(
            update(grants)
            .where(
                self._tenant(grants),
                grants.c.id == grant.id,
                grants.c.next_reset_at == _ms(expected_next_reset_at),
            )
            .values(
                balance=grant.balance,
                next_reset_at=_ms(grant.next_reset_at),
                reset_index=grant.reset_index,
            )
        )
        return result.rowcount == 1

    def set_granted(self, grant_id: int, granted: int) -> None:
        self._connection.execute(
            update(grants)
            .where(self._tenant(grants), grants.c.id == grant_id)
            .values(granted=granted)
        )

    def add_to_granted(self, grant_id: int, delta: int) -> None:
        """A rollover piece grows or is trimmed: its `granted` follows its balance."""
        self._connection.execute(
            update(grants)
            .where(self._tenant(grants), grants.c.id == grant_id)
            .values(granted=grants.c.granted + delta)
        )

    def external_id_used(self, customer_internal_id: int, external_id: str) -> bool:
        """Whether the customer has (or had) a grant with this `balance_id`: unique per
        customer, as Autumn (another customer may use the same one)."""
        found = self._connection.execute(
            select(grants.c.id).where(
                self._tenant(grants),
                grants.c.customer_internal_id == customer_internal_id,
                grants.c.external_id == external_id,
            )
        ).first()
        return found is not None

    def deactivate(self, grant_ids: Sequence[int]) -> None:
        """Close grants; a closed grant's balance is 0 (never below a floor: floors are <= 0)."""
        if grant_ids:
            self._connection.execute(
                update(grants)
                .where(self._tenant(grants), grants.c.id.in_(grant_ids))
                .values(active=False, balance=0)
            )

    def append_entries(self, records: Sequence[EntryRecord], now: datetime) -> None:
        if not records:
            return
        created = to_ms(now)
        rows = [
            {
                "org": self._org,
                "env": self._env,
                "grant_id": r.grant_id,
                "event_id": r.event_id,
                "kind": r.kind,
                "amount": r.amount,
                "units": r.units,
                "feature_id": r.feature_id,
                "effective_at": to_ms(r.effective_at),
                "created_at": created,
                "note": r.note,
            }
            for r in records
        ]
        if self.buffer is not None:
            self.buffer.entries.extend(rows)
            return
        _APPEND_ENTRY.many(self._connection, rows)

    def write_held(self, buffer: WriteBuffer) -> None:
        """Write the entries a batch held back and move each touched balance once by the sum of
        its held changes, under the floor guard (`add_to_balances`)."""
        if buffer.entries:
            _APPEND_ENTRY.many(self._connection, buffer.entries)
        changes = {gid: delta for gid, delta in buffer.deltas.items() if delta}
        self.add_to_balances(changes, buffer.past_floor & set(changes))

    def entries_of_event(self, event_id: int) -> list[EntryRecord]:
        return self._entries(entries.c.event_id == event_id)

    def _entries(self, where: Any) -> list[EntryRecord]:
        rows = self._connection.execute(
            select(entries).where(self._tenant(entries), where).order_by(entries.c.id)
        ).mappings()
        return [
            EntryRecord(
                grant_id=r["grant_id"],
                kind=r["kind"],
                amount=r["amount"],
                effective_at=from_ms(r["effective_at"]),
                event_id=r["event_id"],
                units=r["units"],
                feature_id=r["feature_id"],
                note=r["note"],
            )
            for r in rows
        ]

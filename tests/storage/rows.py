"""Rows for storage tests, written through the store itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from allotment.domain.grants import Grant
from allotment.storage.database import Database
from allotment.storage.store import Store
from allotment.storage.tables import grants

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
ORG, ENV = "default", "sandbox"
UNIT = 10**6


def store_of(connection: Any) -> Store:
    return Store(connection, ORG, ENV)


def customer(store: Store, customer_id: str = "c") -> int:
    return store.customers.insert(customer_id, None, None, None, {}, NOW).internal_id


def grant(store: Store, customer_internal_id: int, balance: int, **fields: Any) -> int:
    """A grant of `balance` whole units (granted 10 and floor 0 unless given, in whole units;
    floor None: no floor)."""
    if fields.get("floor") is not None:
        fields["floor"] *= UNIT
    row = Grant(
        id=0,
        customer_internal_id=customer_internal_id,
        feature_id=fields.pop("feature_id", "msgs"),
        granted=fields.pop("granted", 10) * UNIT,
        balance=balance * UNIT,
        anchor_at=NOW,
        created_at=NOW,
    )
    return store.grants.insert(replace(row, **fields))


def balance_of(database: Database, grant_id: int) -> int:
    """A grant's balance in whole units, read in a transaction of its own."""
    with database.transaction(write=False) as connection:
        return (
            int(connection.scalar(select(grants.c.balance).where(grants.c.id == grant_id))) // UNIT
        )

"""The CHECK on `grants` (ck_grants_floor): a floor is 0, negative (-allowed overage) or NULL
(none). Whether the balance is above it is not a per-row rule (an overflow, a continuous-use
allocation and a manual adjustment may pass it); the guarded UPDATE checks that."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from allotment.storage.database import Database
from allotment.storage.tables import grants
from tests.storage.rows import UNIT, balance_of, customer, grant, store_of


def _one_grant(database: Database) -> int:
    with database.transaction(write=True) as connection:
        store = store_of(connection)
        return grant(store, customer(store), 10)


@pytest.mark.parametrize("floor", [0, -5 * UNIT, None])
def test_a_floor_at_or_below_zero_or_none_is_accepted(
    database: Database, floor: int | None
) -> None:
    g = _one_grant(database)
    with database.transaction(write=True) as connection:
        connection.execute(update(grants).where(grants.c.id == g).values(floor=floor))


def test_a_raw_update_to_a_positive_floor_is_refused_by_the_database(database: Database) -> None:
    g = _one_grant(database)
    with pytest.raises(IntegrityError) as refused, database.transaction(write=True) as c:
        c.execute(text("UPDATE grants SET floor = 1, balance = 0 WHERE id = :id"), {"id": g})
    assert "ck_grants_floor" in str(refused.value.orig)
    assert balance_of(database, g) == 10  # rolled back, balance included


def test_a_raw_insert_with_a_positive_floor_is_refused(database: Database) -> None:
    with pytest.raises(IntegrityError), database.transaction(write=True) as connection:
        store = store_of(connection)
        grant(store, customer(store), 10, floor=3)


def test_a_balance_below_its_floor_is_a_legal_row(database: Database) -> None:
    """An overflow leaves a consumable grant below 0 (floor 0): the row itself is legal."""
    g = _one_grant(database)
    with database.transaction(write=True) as connection:
        connection.execute(text("UPDATE grants SET balance = -5000000 WHERE id = :id"), {"id": g})
    assert balance_of(database, g) == -5

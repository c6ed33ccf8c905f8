"""Migration 0004 on a database that has data: a 0003 database with grants (one overdrawn by
an overflow, seats past their grant, a loose grant with a balance_id) and their ledger keeps
every row, the append-only triggers of `entries` and every foreign key; it gains the floor
CHECK and balance_id unique per customer. On SQLite the grants table is recreated (copy, drop,
rename) while `entries` references it, with foreign keys back on afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from allotment import Allotment
from allotment.storage.database import Database
from allotment.storage.migrate import alembic_config
from allotment.storage.tables import metadata
from tests.catalogs import item, metered, plan


def _populate(url: str) -> None:
    """Usage of every shape through the engine, on the 0003 schema."""
    with Allotment(url, migrate=False) as engine:
        metered(engine, "msgs", name="M")
        metered(engine, "seats", consumable=False, name="S")
        plan(engine, "team", item("msgs", 10), item("seats", 5, reset=None), auto_enable=True)
        for customer_id in ("c1", "c2"):
            engine.customers.get_or_create(customer_id=customer_id)
        engine.track(customer_id="c1", feature_id="msgs", value=3)
        engine.track(customer_id="c1", feature_id="msgs", value=30, overage_behavior="overflow")
        engine.track(customer_id="c1", feature_id="seats", value=8)
        engine.balances.create(
            customer_id="c2", feature_id="msgs", included_grant=4, balance_id="promo"
        )
        engine.track(customer_id="c2", feature_id="msgs", value=12)
        assert engine.verify().ok


def _rows(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(r) for r in connection.execute(select(table).order_by(*table.primary_key))
            ]
            for table in metadata.sorted_tables
        }


def _triggers(engine: Engine) -> list[str]:
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
    )
    with engine.connect() as connection:
        return list(connection.scalars(text(sql)))


def _foreign_keys(engine: Engine) -> dict[str, list[Any]]:
    found = inspect(engine)
    return {
        table.name: sorted(
            (fk["name"], fk["referred_table"], tuple(fk["constrained_columns"]))
            for fk in found.get_foreign_keys(table.name)
        )
        for table in metadata.sorted_tables
    }


def _schema(engine: Engine) -> tuple[Any, ...]:
    return _rows(engine), _triggers(engine), _foreign_keys(engine)


@pytest.fixture
def at_0003(database_url: str) -> Database:
    database = Database(database_url)
    command.upgrade(alembic_config(database.engine), "0003")
    _populate(database_url)
    return database


def test_migrating_a_0003_database_keeps_rows_triggers_and_foreign_keys(
    at_0003: Database, database_url: str
) -> None:
    before = _schema(at_0003.engine)
    assert len(before[0]["grants"]) == 5 and len(before[0]["entries"]) >= 6
    assert len(before[1]) >= 1  # the append-only trigger(s)
    assert ("fk_entries_grant_id_grants", "grants", ("grant_id",)) in before[2]["entries"]
    at_0003.migrate()
    assert _schema(at_0003.engine) == before
    with at_0003.engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0004"
    _assert_constraints_hold(at_0003)
    with Allotment(database_url) as engine:
        assert engine.verify().ok
        engine.track(customer_id="c1", feature_id="msgs", value=1, overage_behavior="overflow")
        # balance_id is now unique per customer: c1 may use c2's
        engine.balances.create(
            customer_id="c1", feature_id="msgs", included_grant=1, balance_id="promo"
        )
        assert engine.verify().ok
    at_0003.dispose()


def _assert_constraints_hold(database: Database) -> None:
    """Foreign keys enforced (on SQLite: back on for the pooled connection that migrated), the
    ledger append-only, the floor CHECK in place; each refusal rolls its transaction back."""
    if database.is_sqlite:
        with database.transaction(write=False) as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    statements = [
        (IntegrityError, "UPDATE grants SET floor = 1 WHERE id = 1"),
        (IntegrityError, _orphan_entry()),
        (DBAPIError, "UPDATE entries SET amount = 0 WHERE id = 1"),
        (DBAPIError, "DELETE FROM entries WHERE id = 1"),
    ]
    for error, sql in statements:
        with pytest.raises(error), database.transaction(write=True) as connection:
            connection.execute(text(sql))


def _orphan_entry() -> str:
    return (
        "INSERT INTO entries (org, env, grant_id, kind, amount, effective_at, created_at)"
        " VALUES ('default', 'sandbox', 999999, 'usage', -1, 0, 0)"
    )


def test_downgrading_and_upgrading_again_keeps_everything(at_0003: Database) -> None:
    at_0003.migrate()
    at_head = _schema(at_0003.engine)
    command.downgrade(alembic_config(at_0003.engine), "0003")
    assert _schema(at_0003.engine) == at_head
    at_0003.migrate()
    assert _schema(at_0003.engine) == at_head
    _assert_constraints_hold(at_0003)
    at_0003.dispose()

"""Storage tests: a `Store` over a real connection of a migrated `Database`, on SQLite and on
PostgreSQL (the `database_url` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allotment.storage.database import Database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()

"""The ledger is append-only and verify() catches any balance that disagrees with it."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from allotment import Allotment
from allotment.storage.tables import grants
from tests.catalogs import seed_catalog


def test_verify_reports_a_tampered_balance(engine: Allotment, database_url: str) -> None:
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=6)
    assert engine.verify().ok
    with engine.database.engine.begin() as connection:
        connection.execute(update(grants).values(balance=grants.c.balance + 1))
    report = engine.verify()
    assert not report.ok
    found = [(m.customer_id, m.feature_id, m.stored, m.folded) for m in report.mismatches]
    assert found == [("u", "credits", Decimal("82.000001"), Decimal("82"))]
    cli = [
        sys.executable,
        "-m",
        "allotment.cli",
        "ledger",
        "verify",
        "--database-url",
        database_url,
    ]
    result = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout


def test_entries_cannot_be_edited_or_deleted(engine: Allotment) -> None:
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    for statement in ("UPDATE entries SET amount = 0", "DELETE FROM entries"):
        with pytest.raises(DBAPIError), engine.database.engine.begin() as connection:
            connection.execute(text(statement))
    assert engine.verify().ok


def test_cli_verify_passes_on_a_clean_ledger(engine: Allotment, database_url: str) -> None:
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=1)
    cli = [
        sys.executable,
        "-m",
        "allotment.cli",
        "ledger",
        "verify",
        "--database-url",
        database_url,
    ]
    result = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledger ok" in result.stdout

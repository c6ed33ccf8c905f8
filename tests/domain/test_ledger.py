"""domain.ledger: the report of a ledger verification, and domain.keys: who a key speaks for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from allotment.domain.keys import ApiKey
from allotment.domain.ledger import LedgerMismatch, LedgerReport


def test_a_clean_report_says_how_many_balances_agree() -> None:
    report = LedgerReport(ok=True, balances_checked=3, mismatches=[])
    assert report.summary() == "ledger ok: 3 balances agree with their entries"


def test_a_report_with_mismatches_says_how_many_differ() -> None:
    wrong = LedgerMismatch(7, "user_1", "credits", Decimal("82"), Decimal("81.5"))
    report = LedgerReport(ok=False, balances_checked=4, mismatches=[wrong])
    assert report.summary() == "ledger MISMATCH: 1 of 4 balances differ from their entries"
    assert (report.mismatches[0].stored - report.mismatches[0].folded) == Decimal("0.5")


def test_reports_and_keys_are_values() -> None:
    report = LedgerReport(ok=True, balances_checked=0, mismatches=[])
    with pytest.raises(AttributeError):
        report.ok = False  # type: ignore[misc]
    key = ApiKey("acme", "live", "publishable", "am_pk_live_abcd")
    assert key == ApiKey("acme", "live", "publishable", "am_pk_live_abcd")
    with pytest.raises(AttributeError):
        key.org = "globex"  # type: ignore[misc]

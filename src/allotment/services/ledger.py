"""Use case: verify the ledger (every stored balance equals the fold of its entries)."""

from __future__ import annotations

from allotment.domain.amounts import from_units
from allotment.domain.ledger import LedgerMismatch, LedgerReport
from allotment.storage.ledger_store import LedgerStore


def verify(ledger: LedgerStore) -> LedgerReport:
    """Every stored balance of the store's scope (a tenant, or all of them) against the fold
    of its entries."""
    checked, wrong = ledger.mismatches()
    return LedgerReport(
        ok=not wrong,
        balances_checked=checked,
        mismatches=[
            LedgerMismatch(
                grant_id=m.grant_id,
                customer_id=m.customer_id,
                feature_id=m.feature_id,
                stored=from_units(m.stored),
                folded=from_units(m.folded),
            )
            for m in wrong
        ],
    )

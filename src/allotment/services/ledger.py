"""Use case: verify the ledger (every stored balance equals the fold of its entries)."""

from __future__ import annotations

from allotment import wire as schemas
from allotment.domain.amounts import from_units
from allotment.storage.store import Store


def verify(store: Store, *, all_tenants: bool = False) -> schemas.LedgerReport:
    checked, wrong = store.grants.mismatches(all_tenants=all_tenants)
    return schemas.LedgerReport(
        ok=not wrong,
        balances_checked=checked,
        mismatches=[
            schemas.LedgerMismatch(
                grant_id=m.grant_id,
                customer_id=m.customer_id,
                feature_id=m.feature_id,
                stored=from_units(m.stored),
                folded=from_units(m.folded),
            )
            for m in wrong
        ],
    )

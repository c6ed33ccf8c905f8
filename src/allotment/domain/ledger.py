"""What verifying the ledger finds: every stored balance beside the fold of its entries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["LedgerMismatch", "LedgerReport"]


@dataclass(frozen=True)
class LedgerMismatch:
    grant_id: int
    customer_id: str
    feature_id: str
    stored: Decimal
    folded: Decimal


@dataclass(frozen=True)
class LedgerReport:
    ok: bool
    balances_checked: int
    mismatches: list[LedgerMismatch]

    def summary(self) -> str:
        if self.ok:
            return f"ledger ok: {self.balances_checked} balances agree with their entries"
        return (
            f"ledger MISMATCH: {len(self.mismatches)} of {self.balances_checked} balances "
            "differ from their entries"
        )

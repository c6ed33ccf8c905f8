"""The ledger as a whole: every grant's stored balance beside the fold of its entries, for one
tenant or for every tenant at once."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from allotment.storage.records import BalanceMismatch
from allotment.storage.tables import customers, entries, grants

__all__ = ["LedgerStore"]


class LedgerStore:
    def __init__(self, connection: Connection, tenant: tuple[str, str] | None) -> None:
        """`tenant`: (org, env), or None for every tenant (`GlobalStore` only)."""
        self._connection = connection
        self._tenant = tenant

    def mismatches(self) -> tuple[int, list[BalanceMismatch]]:
        """Fold every entry into its grant's balance and compare with the stored balance:
        (balances checked, those that differ)."""
        folded = (
            select(entries.c.grant_id, func.sum(entries.c.amount).label("total"))
            .group_by(entries.c.grant_id)
            .subquery()
        )
        query = (
            select(
                grants.c.id,
                grants.c.feature_id,
                grants.c.balance,
                customers.c.customer_id,
                func.coalesce(folded.c.total, 0).label("total"),
            )
            .join(customers, customers.c.id == grants.c.customer_internal_id)
            .outerjoin(folded, folded.c.grant_id == grants.c.id)
        )
        if self._tenant is not None:
            org, env = self._tenant
            query = query.where(grants.c.org == org, grants.c.env == env)
        checked = 0
        wrong: list[BalanceMismatch] = []
        for row in self._connection.execute(query.order_by(grants.c.id)).mappings():
            checked += 1
            total = int(row["total"])
            if total != row["balance"]:
                wrong.append(
                    BalanceMismatch(
                        row["id"], row["customer_id"], row["feature_id"], row["balance"], total
                    )
                )
        return checked, wrong

"""SQL for plans, their versions and items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from allotment import jsonio
from allotment.domain.catalog import Plan, PlanItem, PlanPrice
from allotment.domain.clock import from_ms, to_ms
from allotment.domain.intervals import Interval
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import customer_plans, plan_items, plans


def _price(text: str | None) -> PlanPrice | None:
    if not text:
        return None
    raw = jsonio.loads(text)
    return PlanPrice(Decimal(raw["amount"]), raw["interval"], raw["interval_count"])


class PlanStore(ScopedStore):
    def _items(self, plan_internal_ids: Sequence[int]) -> dict[int, list[PlanItem]]:
        rows = self._connection.execute(
            select(plan_items)
            .where(self._tenant(plan_items), plan_items.c.plan_internal_id.in_(plan_internal_ids))
            .order_by(plan_items.c.plan_internal_id, plan_items.c.position)
        ).mappings()
        items: dict[int, list[PlanItem]] = {}
        for r in rows:
            items.setdefault(r["plan_internal_id"], []).append(
                PlanItem(
                    feature_id=r["feature_id"],
                    included=r["included"],
                    unlimited=r["unlimited"],
                    reset=Interval(r["reset_interval"]) if r["reset_interval"] else None,
                    interval_count=r["interval_count"],
                    extra=jsonio.loads(r["extra"]),
                )
            )
        return items

    def _plans(self, where: Any) -> list[Plan]:
        rows = list(
            self._connection.execute(
                select(plans).where(self._tenant(plans), where).order_by(plans.c.id)
            ).mappings()
        )
        items = self._items([r["id"] for r in rows]) if rows else {}
        return [
            Plan(
                plan_id=r["plan_id"],
                name=r["name"],
                version=r["version"],
                items=tuple(items.get(r["id"], ())),
                description=r["description"],
                group=r["plan_group"],
                add_on=r["add_on"],
                auto_enable=r["auto_enable"],
                archived=r["archived"],
                metadata=jsonio.loads(r["metadata"]),
                created_at=from_ms(r["created_at"]),
                internal_id=r["id"],
                price=_price(r["price"]),
            )
            for r in rows
        ]

    def latest_plan(self, plan_id: str) -> Plan | None:
        found = self._plans((plans.c.plan_id == plan_id) & plans.c.is_latest)
        return found[0] if found else None

    def plan_version(self, plan_id: str, version: int) -> Plan | None:
        found = self._plans((plans.c.plan_id == plan_id) & (plans.c.version == version))
        return found[0] if found else None

    def plans_by_internal_id(self, internal_ids: Sequence[int]) -> dict[int, Plan]:
        found = self._plans(plans.c.id.in_(internal_ids)) if internal_ids else []
        return {p.internal_id: p for p in found if p.internal_id is not None}

    def latest_plans(self, *, include_archived: bool = False) -> list[Plan]:
        where = plans.c.is_latest if include_archived else plans.c.is_latest & ~plans.c.archived
        return self._plans(where)

    def insert_plan(self, plan: Plan, now: datetime) -> int:
        self._connection.execute(
            update(plans)
            .where(self._tenant(plans), plans.c.plan_id == plan.plan_id)
            .values(is_latest=False)
        )
        internal_id = int(
            self._connection.execute(
                insert(plans)
                .values(
                    org=self._org,
                    env=self._env,
                    is_latest=True,
                    created_at=to_ms(now),
                    **self._plan_values(plan),
                )
                .returning(plans.c.id)
            ).scalar_one()
        )
        self._write_items(internal_id, plan.items)
        return internal_id

    def replace_plan(self, internal_id: int, plan: Plan) -> None:
        """Edit a version in place (only allowed while no customer has it)."""
        self._connection.execute(
            update(plans)
            .where(self._tenant(plans), plans.c.id == internal_id)
            .values(**self._plan_values(plan))
        )
        self._connection.execute(
            delete(plan_items).where(
                self._tenant(plan_items), plan_items.c.plan_internal_id == internal_id
            )
        )
        self._write_items(internal_id, plan.items)

    def delete_plan(self, plan_id: str) -> None:
        ids = select(plans.c.id).where(self._tenant(plans), plans.c.plan_id == plan_id)
        self._connection.execute(
            delete(plan_items).where(
                self._tenant(plan_items), plan_items.c.plan_internal_id.in_(ids)
            )
        )
        self._connection.execute(
            delete(plans).where(self._tenant(plans), plans.c.plan_id == plan_id)
        )

    def plan_has_customers(self, plan_id: str, internal_id: int | None = None) -> bool:
        query = select(func.count()).where(
            self._tenant(customer_plans), customer_plans.c.plan_id == plan_id
        )
        if internal_id is not None:
            query = query.where(customer_plans.c.plan_internal_id == internal_id)
        return bool(self._connection.scalar(query))

    @staticmethod
    def _plan_values(plan: Plan) -> dict[str, Any]:
        return {
            "plan_id": plan.plan_id,
            "version": plan.version,
            "name": plan.name,
            "description": plan.description,
            "plan_group": plan.group,
            "add_on": plan.add_on,
            "auto_enable": plan.auto_enable,
            "archived": plan.archived,
            "metadata": jsonio.dumps(dict(plan.metadata)),
            "price": jsonio.dumps(
                {
                    "amount": str(plan.price.amount),
                    "interval": plan.price.interval,
                    "interval_count": plan.price.interval_count,
                }
            )
            if plan.price is not None
            else None,
        }

    def _write_items(self, internal_id: int, items: Sequence[PlanItem]) -> None:
        if not items:
            return
        self._connection.execute(
            insert(plan_items),
            [
                {
                    "org": self._org,
                    "env": self._env,
                    "plan_internal_id": internal_id,
                    "position": position,
                    "feature_id": item.feature_id,
                    "included": item.included,
                    "unlimited": item.unlimited,
                    "reset_interval": item.reset.value if item.reset else None,
                    "interval_count": item.interval_count,
                    "extra": jsonio.dumps(dict(item.extra)),
                }
                for position, item in enumerate(items)
            ],
        )

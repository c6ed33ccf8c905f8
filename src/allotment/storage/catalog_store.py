"""SQL for features, credit schemas and plans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, true, update

from allotment import jsonio
from allotment.domain.catalog import CreditCost, Feature, FeatureType
from allotment.domain.clock import from_ms, to_ms
from allotment.storage.catalog_cache import CatalogCache, CatalogSnapshot
from allotment.storage.raw import RawStatement
from allotment.storage.scoped import ScopedStore
from allotment.storage.tables import (
    catalog_versions,
    credit_costs,
    features,
    plan_items,
)

_CATALOG_VERSION = RawStatement(
    "SELECT version FROM catalog_versions WHERE org = :tenant_org AND env = :tenant_env"
)


class CatalogStore(ScopedStore):
    def __init__(
        self, connection: Connection, org: str, env: str, cache: CatalogCache | None = None
    ) -> None:
        super().__init__(connection, org, env)
        self._cache = cache
        self._local: CatalogSnapshot | None = None
        self._offered_version: int | None = None  # Store.prefetch_customer

    def offer_version(self, version: int) -> None:
        self._offered_version = version

    # features -------------------------------------------------------------------------

    def _schemas(self, system_ids: Sequence[str] | None) -> dict[str, list[CreditCost]]:
        query = select(credit_costs).where(self._tenant(credit_costs))
        if system_ids is not None:
            query = query.where(credit_costs.c.credit_system_id.in_(system_ids))
        schemas: dict[str, list[CreditCost]] = {}
        rows = self._connection.execute(query.order_by(credit_costs.c.position)).mappings()
        for row in rows:
            schemas.setdefault(row["credit_system_id"], []).append(
                CreditCost(row["metered_feature_id"], row["cost"])
            )
        return schemas

    def _features(self, where: Any) -> list[Feature]:
        rows = list(
            self._connection.execute(
                select(features).where(self._tenant(features), where).order_by(features.c.id)
            ).mappings()
        )
        pools = [r["feature_id"] for r in rows if r["type"] == FeatureType.CREDIT_SYSTEM.value]
        schemas = self._schemas(pools) if pools else {}
        return [
            Feature(
                feature_id=r["feature_id"],
                name=r["name"],
                type=FeatureType(r["type"]),
                consumable=r["consumable"],
                event_names=tuple(jsonio.loads(r["event_names"])),
                credit_schema=tuple(schemas.get(r["feature_id"], ())),
                display=jsonio.loads(r["display"]) if r["display"] else None,
                archived=r["archived"],
                created_at=from_ms(r["created_at"]),
            )
            for r in rows
        ]

    def _snapshot(self) -> CatalogSnapshot:
        """This tenant's features, from the process cache while the version row is unchanged
        (read once per transaction)."""
        if self._local is not None:
            return self._local
        if self._offered_version is not None:
            current, self._offered_version = self._offered_version, None
        else:
            current = int(_CATALOG_VERSION.scalar(self._connection, self._scope()) or 0)
        snapshot = self._cache.get(self._org, self._env, current) if self._cache else None
        if snapshot is None:
            snapshot = CatalogSnapshot.build(current, self._features(true()))
            if self._cache is not None:
                self._cache.put(self._org, self._env, snapshot)
        self._local = snapshot
        return snapshot

    def _changed(self) -> None:
        """Bump the version in the writing transaction; readers reload after it commits."""
        self._local = None
        bumped = self._connection.execute(
            update(catalog_versions)
            .where(self._tenant(catalog_versions))
            .values(version=catalog_versions.c.version + 1)
        )
        if bumped.rowcount == 0:
            self._connection.execute(
                insert(catalog_versions).values(org=self._org, env=self._env, version=1)
            )

    def feature(self, feature_id: str) -> Feature | None:
        return self._snapshot().by_id.get(feature_id)

    def features(self, feature_ids: Sequence[str] | None = None) -> list[Feature]:
        snapshot = self._snapshot()
        if feature_ids is None:
            return list(snapshot.features)
        wanted = set(feature_ids)
        return [f for f in snapshot.features if f.feature_id in wanted]

    def pools_containing(self, feature_id: str) -> list[Feature]:
        """Credit systems whose schema lists `feature_id`, oldest first."""
        return list(self._snapshot().pools_of.get(feature_id, ()))

    def features_listening_to(self, event_name: str) -> list[Feature]:
        return [f for f in self._snapshot().features if event_name in f.event_names]

    def insert_feature(self, feature: Feature, now: datetime) -> None:
        self._connection.execute(
            insert(features).values(
                org=self._org,
                env=self._env,
                created_at=to_ms(now),
                **self._feature_values(feature),
            )
        )
        self._write_schema(feature)
        self._changed()

    def update_feature(self, old_id: str, feature: Feature) -> None:
        self._connection.execute(
            update(features)
            .where(self._tenant(features), features.c.feature_id == old_id)
            .values(**self._feature_values(feature))
        )
        self._connection.execute(
            delete(credit_costs).where(
                self._tenant(credit_costs), credit_costs.c.credit_system_id == old_id
            )
        )
        self._write_schema(feature)
        self._changed()

    def delete_feature(self, feature_id: str) -> None:
        self._connection.execute(
            delete(credit_costs).where(
                self._tenant(credit_costs), credit_costs.c.credit_system_id == feature_id
            )
        )
        self._connection.execute(
            delete(features).where(self._tenant(features), features.c.feature_id == feature_id)
        )
        self._changed()

    def feature_referenced(self, feature_id: str) -> bool:
        in_schema = select(credit_costs.c.id).where(
            self._tenant(credit_costs), credit_costs.c.metered_feature_id == feature_id
        )
        in_plan = select(plan_items.c.id).where(
            self._tenant(plan_items), plan_items.c.feature_id == feature_id
        )
        return bool(self._connection.scalar(select(exists(in_schema) | exists(in_plan))))

    @staticmethod
    def _feature_values(feature: Feature) -> dict[str, Any]:
        return {
            "feature_id": feature.feature_id,
            "name": feature.name,
            "type": feature.type.value,
            "consumable": feature.consumable,
            "event_names": jsonio.dumps(list(feature.event_names)),
            "display": jsonio.dumps(feature.display) if feature.display else None,
            "archived": feature.archived,
        }

    def _write_schema(self, feature: Feature) -> None:
        if not feature.credit_schema:
            return
        self._connection.execute(
            insert(credit_costs),
            [
                {
                    "org": self._org,
                    "env": self._env,
                    "credit_system_id": feature.feature_id,
                    "metered_feature_id": line.metered_feature_id,
                    "cost": line.cost,
                    "position": position,
                }
                for position, line in enumerate(feature.credit_schema)
            ],
        )

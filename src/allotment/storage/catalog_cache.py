"""A per-process cache of each tenant's features, checked against a version row.

The check/track hot path needs the tracked feature and the credit systems containing it.
Every catalog write bumps `catalog_versions.version` in the same transaction; a reader reads
that one row and reuses its snapshot while the version is unchanged, so no process ever uses a
catalog older than the last committed change it can see.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from allotment.domain.catalog import Feature


@dataclass(frozen=True)
class CatalogSnapshot:
    version: int
    features: tuple[Feature, ...]
    by_id: dict[str, Feature] = field(default_factory=dict)
    pools_of: dict[str, list[Feature]] = field(default_factory=dict)

    @classmethod
    def build(cls, version: int, features: Sequence[Feature]) -> CatalogSnapshot:
        pools_of: dict[str, list[Feature]] = {}
        for feature in features:
            for line in feature.credit_schema:
                pools_of.setdefault(line.metered_feature_id, []).append(feature)
        return cls(version, tuple(features), {f.feature_id: f for f in features}, pools_of)


class CatalogCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[str, str], CatalogSnapshot] = {}

    def get(self, org: str, env: str, version: int) -> CatalogSnapshot | None:
        snapshot = self._snapshots.get((org, env))
        return snapshot if snapshot is not None and snapshot.version == version else None

    def put(self, org: str, env: str, snapshot: CatalogSnapshot) -> None:
        with self._lock:
            self._snapshots[(org, env)] = snapshot

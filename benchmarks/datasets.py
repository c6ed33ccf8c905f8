"""The databases a run measures, made once and shared between sections: per backend, the main
engine database (the profile's customers) and the bare-ceiling database, plus the scaling
section's own. Every engine database is verified at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console

from benchmarks.bare import BareDatabase
from benchmarks.databases import Backend, Workspace
from benchmarks.seed import SeededDatabase, seed

__all__ = ["Datasets"]


@dataclass
class Datasets:
    workspace: Workspace
    customers: int
    seed_via: str
    console: Console
    engine_databases: list[tuple[str, SeededDatabase]] = field(default_factory=list)
    bare_databases: list[tuple[str, BareDatabase]] = field(default_factory=list)
    # engine databases already put through `allotment ledger verify` after their last write
    verified: set[str] = field(default_factory=set)
    _main: dict[Backend, SeededDatabase] = field(default_factory=dict)
    _bare: dict[Backend, BareDatabase] = field(default_factory=dict)

    def main(self, backend: Backend) -> SeededDatabase:
        if backend not in self._main:
            self._main[backend] = self.seeded(backend, "main", self.customers)
        return self._main[backend]

    def bare(self, backend: Backend) -> BareDatabase:
        if backend not in self._bare:
            url = self.workspace.new_database(backend, "bare")
            database = BareDatabase.create(url, self.customers)
            self.bare_databases.append((f"{backend} bare ({self.customers:,} customers)", database))
            self._bare[backend] = database
        return self._bare[backend]

    def seeded(
        self, backend: Backend, purpose: str, customers: int, tracks_per_customer: int = 0
    ) -> SeededDatabase:
        url = self.workspace.new_database(backend, purpose)
        with self.console.status(f"seeding {backend} {purpose}: {customers:,} customers"):
            database = seed(
                url, customers, tracks_per_customer=tracks_per_customer, via=self.seed_via
            )
        label = f"{backend} {purpose} ({customers:,} customers)"
        self.engine_databases.append((label, database))
        return database

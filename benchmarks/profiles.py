"""How long and how large: the `default` profile (under 5 minutes on a 2-core machine, the
one `make bench` runs) and the `full` profile (a long run by hand, not in CI)."""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PROFILES", "Profile"]


@dataclass(frozen=True)
class Profile:
    name: str
    customers: int  # customers seeded for the embedded and HTTP sections
    embedded_warmup_s: float
    embedded_measure_s: float
    thread_counts: tuple[int, ...]
    wrk_warmup_s: int
    wrk_measure_s: int
    wrk_connections: int
    worker_counts: tuple[int, ...]
    hot_worker_counts: tuple[int, ...]  # HTTP single-hot-customer runs at these worker counts
    scaling_sizes: tuple[int, ...]  # customers; the first one is the baseline
    ledger_customers: int  # customers of the large-ledger database ...
    ledger_entries: int  # ... and the ledger entries it holds
    batch_events: int  # events in the batch-ingestion run
    scaling_measure_s: float
    scaling_rss: bool  # worker RSS under load on the largest database (else: the HTTP section's)

    def with_customers(self, customers: int | None) -> Profile:
        return self if customers is None else replace(self, customers=customers)


PROFILES: dict[str, Profile] = {
    "default": Profile(
        name="default",
        customers=10_000,
        embedded_warmup_s=0.5,
        embedded_measure_s=2.0,
        thread_counts=(1, 8),
        wrk_warmup_s=1,
        wrk_measure_s=5,
        wrk_connections=8,
        worker_counts=(1, 2),
        hot_worker_counts=(1,),
        scaling_sizes=(1_000, 100_000),
        ledger_customers=10_000,
        ledger_entries=300_000,
        batch_events=1_000,
        scaling_measure_s=2.0,
        scaling_rss=False,
    ),
    "full": Profile(
        name="full",
        customers=10_000,
        embedded_warmup_s=2.0,
        embedded_measure_s=10.0,
        thread_counts=(1, 8),
        wrk_warmup_s=2,
        wrk_measure_s=10,
        wrk_connections=8,
        worker_counts=(1, 2),
        hot_worker_counts=(1, 2),
        scaling_sizes=(1_000, 100_000, 1_000_000),
        ledger_customers=1_000_000,
        ledger_entries=10_000_000,
        batch_events=20_000,
        scaling_measure_s=10.0,
        scaling_rss=True,
    ),
}

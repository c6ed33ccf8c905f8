"""`python -m benchmarks [--profile default|full] [--only embedded|http|scaling]
[--json benchmarks/results.json]`: run the benchmarks, print the table, write the JSON, and
exit 1 if any ledger failed to verify (a benchmark that loses credits is not a result)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from benchmarks import embedded, http_api, scaling
from benchmarks.databases import DEFAULT_POSTGRES_URL, Backend, Workspace, postgres_reachable
from benchmarks.datasets import Datasets
from benchmarks.ledger import verify_all
from benchmarks.profiles import PROFILES, Profile
from benchmarks.report import Report
from benchmarks.servers import ROOT
from benchmarks.wrk import INSTALL_HINT, wrk_path

SECTIONS = ("embedded", "http", "scaling")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="default")
    parser.add_argument("--only", choices=SECTIONS, help="run one section")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    parser.add_argument(
        "--customers", type=int, help="customers for the embedded and HTTP sections"
    )
    parser.add_argument(
        "--seed",
        choices=("clone", "engine"),
        default="clone",
        help="copy an engine-made customer with SQL (fast), or make all through the engine",
    )
    parser.add_argument("--backend", choices=[b.value for b in Backend], help="one backend")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ALLOTMENT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a server where throwaway allotment_bench_<hex> databases may be created",
    )
    return parser.parse_args(argv)


def _git(*arguments: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(ROOT), *arguments], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def _backends(args: argparse.Namespace, report: Report, console: Console) -> list[Backend]:
    chosen = [Backend(args.backend)] if args.backend else list(Backend)
    if Backend.POSTGRESQL in chosen:
        problem = postgres_reachable(args.postgres_url)
        if problem is not None:
            console.print(f"[bold red]PostgreSQL unreachable, its figures are skipped: {problem}")
            report.meta["postgresql_skipped"] = problem
            chosen.remove(Backend.POSTGRESQL)
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    console = Console()
    if console.width < 220:
        console = Console(width=220)  # the table has nine columns: do not wrap its labels
    profile = PROFILES[args.profile].with_customers(args.customers)
    sections = [args.only] if args.only else list(SECTIONS)
    report = Report(profile.name)
    report.meta.update(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        sections=sections,
        profile=asdict(profile),
        seed=args.seed,
        commit=_git("rev-parse", "--short", "HEAD"),
        src_modified=bool(_git("status", "--porcelain", "src")),
        sqlite=sqlite3.sqlite_version,
        wrk=wrk_path() is not None,
        load_average_before=os.getloadavg(),
    )
    if "http" in sections and wrk_path() is None:
        console.print(f"[bold red]{INSTALL_HINT}")
    backends = _backends(args, report, console)
    started = time.perf_counter()
    failures: list[str] = []
    timings: dict[str, float] = {}
    with Workspace(args.postgres_url) as workspace:
        datasets = Datasets(workspace, profile.customers, args.seed, console)
        try:
            for name in sections:
                section_started = time.perf_counter()
                try:
                    _run_section(name, profile, datasets, report, console, backends, workspace)
                    timings[name] = round(time.perf_counter() - section_started, 1)
                except Exception:
                    failures.append(name)
                    console.print(f"[bold red]section {name} failed:\n{traceback.format_exc()}")
        finally:
            verify_started = time.perf_counter()
            with console.status("verifying every ledger"):
                verify_all(datasets, report)
            timings["final ledger verification"] = round(time.perf_counter() - verify_started, 1)
    elapsed = time.perf_counter() - started
    report.meta.update(
        elapsed_s=round(elapsed, 1),
        section_seconds=timings,
        failed_sections=failures,
        load_average_after=os.getloadavg(),
    )
    report.print(console)
    report.write_json(args.json)
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    console.print(f"took {elapsed:.0f} s ({spent}); results written to {args.json}")
    if not report.ledger_ok:
        console.print("[bold red]a ledger did not verify: these figures are not a result")
        return 1
    return 2 if failures else 0


def _run_section(
    name: str,
    profile: Profile,
    datasets: Datasets,
    report: Report,
    console: Console,
    backends: list[Backend],
    workspace: Workspace,
) -> None:
    if name == "embedded":
        embedded.run(profile, datasets, report, console, backends)
    elif name == "http":
        http_api.run(profile, datasets, report, console, backends, workspace)
    else:
        scaling.run(profile, datasets, report, console, backends, workspace)


if __name__ == "__main__":
    raise SystemExit(main())

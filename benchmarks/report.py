"""Results: each figure beside its baseline, the ratio, and the targets it is held to; a Rich
table for people and a JSON document for tracking."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["Figure", "LedgerCheck", "Measurement", "Report", "Target"]


@dataclass(frozen=True)
class Measurement:
    """A timed run: `count` operations in `seconds`, latency percentiles in milliseconds."""

    count: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Target:
    text: str  # what is asked, e.g. "≥ 50% of bare"
    met: bool
    detail: str = ""  # the number it was judged on, when it is not the row's ratio


@dataclass
class Figure:
    section: str
    key: str  # stable id, e.g. "embedded/sqlite/track/t8/uniform"
    label: str
    value: float
    unit: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    baseline_key: str | None = None
    baseline_label: str | None = None
    baseline_value: float | None = None
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    def against(self, baseline: Figure) -> Figure:
        self.baseline_key = baseline.key
        self.baseline_label = _without_backend(baseline.label)
        self.baseline_value = baseline.value
        return self

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


@dataclass(frozen=True)
class LedgerCheck:
    database: str
    ok: bool
    detail: str


@dataclass
class Report:
    profile: str
    figures: list[Figure] = field(default_factory=list)
    ledger: list[LedgerCheck] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def get(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)

    @property
    def targets(self) -> list[tuple[Figure, Target]]:
        return [(f, t) for f in self.figures for t in f.targets]

    @property
    def ledger_ok(self) -> bool:
        return all(check.ok for check in self.ledger)

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "meta": {"machine": _machine(), **self.meta},
            "ledger_ok": self.ledger_ok,
            "ledger": [asdict(check) for check in self.ledger],
            "targets_met": sum(t.met for _, t in self.targets),
            "targets_missed": sum(not t.met for _, t in self.targets),
            "figures": [f.to_json() for f in self.figures],
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    def print(self, console: Console) -> None:
        console.print(self._figures_table())
        console.print(self._ledger_table())
        met = sum(t.met for _, t in self.targets)
        console.print(f"targets: {met} met, {len(self.targets) - met} missed")

    def _figures_table(self) -> Table:
        table = Table(title=f"allotment benchmarks ({self.profile} profile)", show_lines=False)
        table.add_column("figure", no_wrap=True)
        for column in ("value", "p50 ms", "p99 ms"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("baseline", no_wrap=True)
        table.add_column("baseline value", justify="right", no_wrap=True)
        table.add_column("ratio", justify="right", no_wrap=True, min_width=5)
        table.add_column("target", no_wrap=True)
        table.add_column("result", no_wrap=True)
        section = None
        for f in self.figures:
            if f.section != section:
                if section is not None:
                    table.add_section()
                section = f.section
            targets = [
                (t.text + (f" ({t.detail})" if t.detail else ""), _verdict(t)) for t in f.targets
            ] or [("", "")]
            table.add_row(
                f.label + "".join(f"\n  [dim]{note}[/dim]" for note in f.notes),
                f"{_number(f.value)} {f.unit}",
                _ms(f.p50_ms),
                _ms(f.p99_ms),
                f.baseline_label or "",
                _number(f.baseline_value) if f.baseline_value is not None else "",
                f"{f.ratio:.2f}" if f.ratio is not None else "",
                *targets[0],
            )
            for more in targets[1:]:  # one line per target
                table.add_row("", "", "", "", "", "", "", *more)
        return table

    def _ledger_table(self) -> Table:
        table = Table(title="ledger after the run (a benchmark that loses credits is no result)")
        table.add_column("database")
        table.add_column("verified")
        table.add_column("detail")
        for check in self.ledger:
            table.add_row(
                check.database,
                "[green]ok[/green]" if check.ok else "[red]FAILED[/red]",
                check.detail,
            )
        return table


def _verdict(target: Target) -> str:
    return "[green]met[/green]" if target.met else "[red]missed[/red]"


def _without_backend(label: str) -> str:
    """The baseline stands on the figure's own database: no need to repeat which."""
    first, _, rest = label.partition(" ")
    return rest if first in ("sqlite", "postgresql") else label


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }

"""Section 2, the HTTP server: `track` and `check` requests/s and p50/p99 on 127.0.0.1, driven
by wrk with the Lua scripts in benchmarks/wrk/ (customer ids spread over the seeded
customers), at 1 and 2 workers (`allotment serve --workers N`), on SQLite and PostgreSQL.
Beside each: (a) the same stack answering a constant JSON body, and (b) a minimal Starlette app
on the same server and driver doing one conditional UPDATE plus one event INSERT per request
(baseline_apps.py). Also the peak RSS of a worker under that load, allotment's beside (b)'s."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from rich.console import Console

from benchmarks.databases import Backend, Workspace
from benchmarks.datasets import Datasets
from benchmarks.embedded import faster_than_track, hot_target
from benchmarks.profiles import Profile
from benchmarks.report import Figure, Measurement, Report, Target
from benchmarks.servers import Server, allotment_command, baseline_command, free_port, start
from benchmarks.wrk import INSTALL_HINT, WrkLoad, run_wrk, wrk_path

__all__ = ["create_key", "run", "start_allotment", "start_bare"]

SECTION = "http"
P99_LIMIT_MS = 5.0
TRACK_SHARE = {Backend.POSTGRESQL: 0.50, Backend.SQLITE: 0.50}  # issue 12: ≥ 0.50 of (b)


def create_key(url: str) -> str:
    result = subprocess.run(
        [*allotment_command(), "keys", "create", "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def start_allotment(workspace: Workspace, url: str, workers: int) -> Server:
    port = free_port()
    command = [
        *allotment_command(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        url,
        "--workers",
        str(workers),
    ]
    log = workspace.path(f"allotment-{port}.log")
    return start(f"allotment serve (port {port})", command, port, log, {}, workers)


def start_bare(workspace: Workspace, app: str, workers: int, url: str = "") -> Server:
    port = free_port()
    log = workspace.path(f"{app}-{port}.log")
    env = {"BENCH_BARE_DATABASE_URL": url}
    return start(app, baseline_command(app, port, workers), port, log, env, workers)


@dataclass
class _Load:
    profile: Profile
    console: Console
    customers: int

    def measure(
        self, server: Server, label: str, script: str, *, hot: bool = False, key: str = "none"
    ) -> Measurement:
        load = WrkLoad(
            self.profile.wrk_measure_s, self.profile.wrk_connections, self.customers, hot, key
        )
        with self.console.status(f"http: {label}"):
            run_wrk(server.url, script, load.lasting(self.profile.wrk_warmup_s))
            measurement = run_wrk(server.url, script, load)
        if measurement.errors:
            self.console.print(f"[red]{label}: {measurement.errors} failed requests")
        return measurement


def _figure(key: str, label: str, measurement: Measurement, unit: str = "req/s") -> Figure:
    result = Figure(
        SECTION, key, label, measurement.rate, unit, measurement.p50_ms, measurement.p99_ms
    )
    if measurement.errors:
        result.notes.append(f"{measurement.errors} failed requests")
    return result


def _rss(key: str, label: str, mib: float) -> Figure:
    return Figure(SECTION, key, label, mib, "MiB")


class _Section:
    def __init__(
        self,
        profile: Profile,
        datasets: Datasets,
        report: Report,
        console: Console,
        workspace: Workspace,
    ) -> None:
        self.profile = profile
        self.datasets = datasets
        self.report = report
        self.workspace = workspace
        self.load = _Load(profile, console, profile.customers)
        self.constant: dict[int, Figure] = {}

    def constant_ceiling(self) -> None:
        for workers in self.profile.worker_counts:
            label = f"(a) constant JSON {workers}w"
            with start_bare(self.workspace, "constant_app", workers) as server:
                measurement = self.load.measure(server, label, "track")
            key = f"{SECTION}/constant/w{workers}"
            self.constant[workers] = self.report.add(_figure(key, label, measurement))

    def backend(self, backend: Backend) -> None:
        main = self.datasets.main(backend)
        bare = self.datasets.bare(backend)
        api_key = create_key(main.url)
        for workers in self.profile.worker_counts:
            hot = workers in self.profile.hot_worker_counts
            prefix = f"{SECTION}/{backend}/w{workers}"
            name = f"{backend} {{}} {workers}w"
            with start_bare(self.workspace, "bare_app", workers, bare.url) as server:
                b_label = name.format("(b) bare") + " uniform"
                b = _figure(
                    f"{prefix}/bare/uniform", b_label, self.load.measure(server, b_label, "track")
                )
                b_hot = None
                if hot:
                    label = name.format("(b) bare") + " hot"
                    m = self.load.measure(server, label, "track", hot=True)
                    b_hot = _figure(f"{prefix}/bare/hot", label, m).against(b)
                b_rss = _rss(
                    f"{prefix}/bare/rss",
                    name.format("(b) worker peak RSS"),
                    server.peak_rss_mib(),
                )
            self.report.add(b.against(self.constant[workers]) if workers in self.constant else b)
            if b_hot is not None:
                self.report.add(b_hot)
            self._allotment(backend, workers, main.url, api_key, b, b_hot, b_rss)

    def _allotment(
        self,
        backend: Backend,
        workers: int,
        url: str,
        api_key: str,
        b: Figure,
        b_hot: Figure | None,
        b_rss: Figure,
    ) -> None:
        prefix = f"{SECTION}/{backend}/w{workers}"
        name = f"{backend} {{}} {workers}w"
        with start_allotment(self.workspace, url, workers) as server:
            label = name.format("track") + " uniform"
            track = _figure(
                f"{prefix}/track/uniform",
                label,
                self.load.measure(server, label, "track", key=api_key),
            )
            label = name.format("check") + " uniform"
            check = _figure(
                f"{prefix}/check/uniform",
                label,
                self.load.measure(server, label, "check", key=api_key),
            )
            hot = None
            if b_hot is not None:
                label = name.format("track") + " hot"
                m = self.load.measure(server, label, "track", hot=True, key=api_key)
                hot = _figure(f"{prefix}/track/hot", label, m)
            rss = _rss(
                f"{prefix}/rss", name.format("allotment worker peak RSS"), server.peak_rss_mib()
            )
        share = TRACK_SHARE[backend]
        track.against(b).targets.append(
            Target(f"≥ {share:.0%} of baseline (b)", (track.ratio or 0) >= share)
        )
        self.report.add(track)
        connections = self.profile.wrk_connections
        check.against(b).targets.append(faster_than_track(check, track))
        if workers == 2:  # issue 12: check p99 < 5 ms at 8 connections, 2 workers
            check.targets.append(
                Target(
                    f"p99 < {P99_LIMIT_MS:g} ms @ {connections} conns",
                    (check.p99_ms or 1e9) < P99_LIMIT_MS,
                )
            )
        self.report.add(check)
        if hot is not None and b_hot is not None:
            hot.against(track).targets.append(hot_target(backend, hot, b_hot.ratio, "baseline (b)"))
            self.report.add(hot)
        self.report.add(b_rss)
        self.report.add(rss.against(b_rss))


def run(
    profile: Profile,
    datasets: Datasets,
    report: Report,
    console: Console,
    backends: list[Backend],
    workspace: Workspace,
) -> None:
    if wrk_path() is None:
        console.print(f"[red]skipping the HTTP section: {INSTALL_HINT}")
        report.meta["http_skipped"] = INSTALL_HINT
        return
    section = _Section(profile, datasets, report, console, workspace)
    section.constant_ceiling()
    for backend in backends:
        section.backend(backend)

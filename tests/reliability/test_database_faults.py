"""Database faults: `allotment serve --workers 2` on a PRIVATE PostgreSQL cluster (initdb into a
temporary folder, its own port and socket folder) under a concurrent track load, while
(a) every server connection is killed with pg_terminate_backend, and (b) the cluster is
restarted (pg_ctl stop -m fast, then start).

Asserted: no answer is a 500 or carries a traceback; every failed answer is a 503
service_unavailable with Retry-After (an HTTP connection error is tolerated only during a cluster
restart, and counted); nothing is half applied (after retrying every failed track with the same
idempotency key, each key is in the ledger once, usage is the sum of the applied values and
`allotment ledger verify` exits 0); the server recovers by itself within a few seconds once the
database is back (timed by polling /health and a track). The cluster is stopped at the end
(pg_ctl stop -m immediate), failure or not. Skipped, loudly, only when initdb is not found.

The cluster runs with fsync=off (the test restarts it cleanly; it never loses power) to keep
the bounded run short. Bounded by default; ALLOTMENT_LONG=1 injects more faults over a longer
load.
"""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import LONG
from tests.reliability.harness import (
    SERVICE_UNAVAILABLE,
    Load,
    ServerProcess,
    Track,
    check_ledger,
    found_applied_on_retry,
    free_port,
    ledger_verify,
    seed_from_environment,
    send_track,
    settle,
    setup_catalog,
)

pytestmark = pytest.mark.reliability

TERMINATIONS = 10 if LONG else 3
RESTARTS = 6 if LONG else 2
LOAD_BETWEEN_FAULTS = (1.0, 4.0) if LONG else (0.5, 1.5)
DOWN_FOR = (0.2, 3.0) if LONG else (0.2, 1.0)
RECOVERY_LIMIT = 10.0  # seconds from "database back" to a successful track
CUSTOMERS = ["alice", "bob", "carol"]
DATABASE = "allotment_faults"


def _find_pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


class Cluster:
    """A throwaway PostgreSQL cluster. PostgreSQL refuses to run as root: as root, its
    commands run as the `postgres` system user, in a folder that user owns."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root and there is no `postgres` user to run initdb as")
            self.user = "postgres"
        self.root = Path(tempfile.mkdtemp(prefix="allotment-pg-"))
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.port = free_port()

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            user=self.user,
            group=self.user,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (
            f"{args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}\n{self.log()}"
        )
        return result

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=100"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
            user=self.user,
            group=self.user,
            cwd=self.root,
        )
        return result.returncode == 0

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, **parameters: Any) -> Any:
        engine = create_engine(
            self.url("postgres").replace("postgresql://", "postgresql+psycopg://"),
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
        )
        try:
            with engine.connect() as connection:
                result = connection.execute(text(sql), parameters)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def terminate_backends(self, database: str) -> int:
        return int(
            self.admin(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()",
                name=database,
            )
        )

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no postgres log)"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _find_pg_bin()
    if bin_dir is None:
        pytest.skip(
            "!!! initdb NOT FOUND (looked in /usr/lib/postgresql/*/bin and PATH): the "
            "database-fault test did NOT run; install PostgreSQL's server binaries !!!"
        )
    cluster = Cluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            if cluster.data.exists() and cluster.running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(cluster.root, ignore_errors=True)


@dataclass
class Fault:
    kind: str  # "terminate" or "restart"
    began: float  # monotonic: the fault is injected
    back: float  # monotonic: the database is usable again
    recovered: float  # monotonic: /health is 200 and a track was applied
    detail: str

    @property
    def recovery(self) -> float:
        return self.recovered - self.back


def _wait_recovered(server: ServerProcess, probes: list[Track], customer: str) -> float:
    """Poll /health, then a track (retried with its own key), until both succeed; returns the
    moment they did. Fails when the server does not recover in RECOVERY_LIMIT x 3 seconds."""
    began = time.monotonic()
    probe = Track(key=f"probe-{len(probes)}", customer=customer, value=1)
    probes.append(probe)
    with httpx.Client(base_url=server.base, headers=server.headers, timeout=10) as client:
        healthy = False
        while True:
            assert time.monotonic() - began < RECOVERY_LIMIT * 3, (
                f"no recovery after {RECOVERY_LIMIT * 3}s: health ok={healthy}, probe "
                f"{[a.describe() for a in probe.attempts[-3:]]}\n{server.log_tail()}"
            )
            if not healthy:
                try:
                    healthy = client.get("/health").status_code == 200
                except httpx.HTTPError:
                    healthy = False
            if healthy and send_track(client, probe, "probe").applied:
                return time.monotonic()
            time.sleep(0.05)


def test_server_survives_killed_connections_and_database_restarts(
    cluster: Cluster, tmp_path: Path
) -> None:
    seed = seed_from_environment("database faults")
    rng = random.Random(seed)
    cluster.admin(f'CREATE DATABASE "{DATABASE}"')
    database_url = cluster.url(DATABASE)
    server = ServerProcess(database_url, tmp_path, workers=2)
    began = time.monotonic()
    try:
        server.start()
        with httpx.Client(base_url=server.base, headers=server.headers, timeout=30) as client:
            setup_catalog(client, CUSTOMERS)
        load = Load(server, CUSTOMERS, rng, threads=8, timeout=30)
        probes: list[Track] = []
        faults: list[Fault] = []
        load.start()
        try:
            for _ in range(TERMINATIONS):
                time.sleep(rng.uniform(*LOAD_BETWEEN_FAULTS))
                moment = time.monotonic()
                killed = cluster.terminate_backends(DATABASE)
                recovered = _wait_recovered(server, probes, rng.choice(CUSTOMERS))
                faults.append(Fault("terminate", moment, moment, recovered, f"{killed} backends"))
            for _ in range(RESTARTS):
                time.sleep(rng.uniform(*LOAD_BETWEEN_FAULTS))
                moment = time.monotonic()
                cluster.stop("fast")
                time.sleep(rng.uniform(*DOWN_FOR))
                cluster.start()
                back = time.monotonic()
                recovered = _wait_recovered(server, probes, rng.choice(CUSTOMERS))
                faults.append(
                    Fault("restart", moment, back, recovered, f"down {back - moment:.2f}s")
                )
            time.sleep(1.0)  # load on the recovered server
        finally:
            load.stop()
        tracks = load.tracks + probes
        attempts = [a for t in tracks for a in t.attempts]
        outcomes = Counter(
            (a.status if a.error is None else a.error.split(":")[0]) for a in attempts
        )
        print(f"answers during the faults: {dict(outcomes)}", flush=True)

        # no 500, no traceback, every failed answer a 503 service_unavailable + Retry-After
        internal = [a for a in attempts if a.status is not None and a.status >= 500]
        internal = [a for a in internal if a.status != 503]
        assert not internal, (
            f"{len(internal)} 5xx answers other than 503, e.g. {internal[0].describe()}\n"
            f"{server.log_tail()}"
        )
        traced = [a for a in attempts if "Traceback" in a.text or 'File "' in a.text]
        assert not traced, traced[0].describe()
        unavailable = [a for a in attempts if a.status == 503]
        wrong = [a for a in unavailable if a.code != SERVICE_UNAVAILABLE or a.retry_after is None]
        assert not wrong, f"a 503 without code/Retry-After: {wrong[0].describe()}"
        assert all(a.retry_after == "1" for a in unavailable)
        odd = [a for a in attempts if a.status is not None and a.status not in (200, 503)]
        assert not odd, f"unexpected answers: {[a.describe() for a in odd[:5]]}"
        # an HTTP connection error is tolerated only while the cluster restarts
        restarts = [f for f in faults if f.kind == "restart"]
        errors = [a for a in attempts if a.error is not None]
        stray = [
            a
            for a in errors
            if not any(f.began - 0.5 <= a.started <= f.recovered + 1.0 for f in restarts)
        ]
        assert not stray, (
            f"{len(stray)} connection errors outside a cluster restart, e.g. "
            f"{stray[0].describe()}\n{server.log_tail()}"
        )

        # the server recovered by itself, quickly
        slow = [f for f in faults if f.recovery > RECOVERY_LIMIT]
        assert not slow, [(f.kind, f.recovery) for f in slow]

        # nothing half applied: settle every key, then count the ledger
        retries = settle(server, tracks)
        check_ledger(server, tracks, CUSTOMERS)
        log = server.log_text()
        server.stop()
        assert "internal error" not in log, log[-6000:]
        verify = ledger_verify(database_url)
        assert verify.returncode == 0, verify.stdout + verify.stderr

        for f in faults:
            print(
                f"{f.kind:9} {f.detail:>14}: recovered {f.recovery:.2f}s after the database "
                f"was back ({f.recovered - f.began:.2f}s after the fault)",
                flush=True,
            )
        print(
            f"database faults: seed {seed}, {len(load.tracks)} tracks + {len(probes)} probes "
            f"sent, {len(unavailable)} 503s, {len(errors)} connection errors (during "
            f"restarts), {retries} retries ({found_applied_on_retry(tracks)} found already "
            f"applied: 409), {log.count('database unavailable')} "
            f"'database unavailable' log lines, {time.monotonic() - began:.1f}s in all",
            flush=True,
        )
    finally:
        server.stop()

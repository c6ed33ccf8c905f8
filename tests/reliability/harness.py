"""Shared machinery of the crash and database-fault tests: a real `allotment serve` process in
its own process group, a threaded track load that records every answer, the retry pass that
settles every key, and the ledger checks that follow."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
FEATURE = "work"
SERVICE_UNAVAILABLE = "service_unavailable"
DUPLICATE = "duplicate_idempotency_key"


def free_port() -> int:
    """A free port outside the kernel's ephemeral range. A server here is restarted on the same
    port, and while nothing listens on it, a client connecting to it from an ephemeral port
    could be given that very port (a TCP self-connect), which would then block the restart."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    candidates = list(range(max(1024, low - 12000), low))
    random.SystemRandom().shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def seed_from_environment(name: str) -> int:
    """`ALLOTMENT_RELIABILITY_SEED` replays a run; otherwise a fresh seed (always printed)."""
    raw = os.environ.get("ALLOTMENT_RELIABILITY_SEED")
    seed = int(raw) if raw else random.SystemRandom().randrange(2**32)
    print(f"\n[{name}] seed {seed} (replay with ALLOTMENT_RELIABILITY_SEED={seed})", flush=True)
    return seed


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


class ServerProcess:
    """`allotment serve --workers N` as a process group of its own (master and workers), so one
    SIGKILL to the group takes every process down at once, as a power cut would."""

    def __init__(self, database_url: str, workdir: Path, *, workers: int = 2) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.key: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    @property
    def headers(self) -> dict[str, str]:
        assert self.key is not None
        return {"Authorization": f"Bearer {self.key}"}

    def start(self, *, timeout: float = 60.0) -> float:
        """Start, wait for /health; returns the seconds it took. The first start on an empty
        database prints the secret key; a restart must not print another."""
        assert self.process is None or self.process.poll() is not None
        log_path = self.workdir / f"serve-{len(self.logs)}.log"
        self.logs.append(log_path)
        began = time.monotonic()
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "allotment"),
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--database-url",
                    self.database_url,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                start_new_session=True,  # its own process group: killpg reaches the workers
            )
        with httpx.Client(base_url=self.base, timeout=1) as probe:
            while True:
                try:
                    if probe.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited at start:\n{log_path.read_text()}")
                if time.monotonic() - began > timeout:
                    raise AssertionError(f"not healthy after {timeout}s:\n{self.log_tail()}")
                time.sleep(0.05)
        keys = [
            line.split()[-1] for line in log_path.read_text().splitlines() if "Secret key" in line
        ]
        if self.key is None:
            assert keys, f"first start printed no secret key:\n{log_path.read_text()}"
            self.key = keys[0]
        else:
            assert not keys, f"a restart on the same database printed a new key: {keys}"
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL the whole process group and wait until none of it is left."""
        assert self.process is not None
        pgid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_members(pgid):
            assert time.monotonic() < deadline, f"group {pgid} survived SIGKILL"
            time.sleep(0.02)

    def stop(self) -> None:
        """A clean stop (SIGTERM), then SIGKILL whatever is left; safe to call twice."""
        if self.process is None:
            return
        pgid = self.process.pid
        if self.process.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if _group_members(pgid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=30)
        self.process = None  # its pgid may be reused from now on: never signal it again

    def log_text(self) -> str:
        parts = []
        for path in self.logs:
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"----- {path.name} -----\n{text}")
        return "\n".join(parts)

    def log_tail(self, characters: int = 6000) -> str:
        return self.log_text()[-characters:]


def setup_catalog(client: httpx.Client, customers: list[str]) -> None:
    """One consumable metered feature, a plan granting far more than the load can use (no
    track is ever capped, so usage is exactly the sum of the values), the customers."""
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            "features.create",
            {"feature_id": FEATURE, "name": "Work", "type": "metered", "consumable": True},
        ),
        (
            "plans.create",
            {
                "plan_id": "base",
                "name": "Base",
                "auto_enable": True,
                "items": [{"feature_id": FEATURE, "included": 10**12}],
            },
        ),
    ]
    calls += [("customers.get_or_create", {"customer_id": c}) for c in customers]
    for path, body in calls:
        response = client.post(f"/v1/{path}", json=body)
        assert response.status_code == 200, (path, response.status_code, response.text)


@dataclass
class Attempt:
    """One HTTP attempt of a track: its status and body, or the exception it raised."""

    phase: str  # "load" or "retry"
    started: float  # time.monotonic()
    status: int | None = None
    body: Any = None
    text: str = ""
    retry_after: str | None = None
    error: str | None = None  # "ConnectError: ..." when no answer came

    @property
    def applied(self) -> bool:
        return self.status == 200 or (self.status == 409 and self.code == DUPLICATE)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None

    def describe(self) -> str:
        if self.error is not None:
            return self.error
        return f"{self.status} {self.text[:300]}"


@dataclass
class Track:
    key: str
    customer: str
    value: int
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].applied

    @property
    def event_id(self) -> str | None:
        """The event id of a 200 answer (a 409 on retry names none)."""
        for attempt in self.attempts:
            if attempt.status == 200:
                return str(attempt.body["id"])
        return None


def send_track(client: httpx.Client, track: Track, phase: str) -> Attempt:
    attempt = Attempt(phase=phase, started=time.monotonic())
    try:
        response = client.post(
            "/v1/balances.track",
            json={
                "customer_id": track.customer,
                "feature_id": FEATURE,
                "value": track.value,
                "idempotency_key": track.key,
            },
        )
    except httpx.HTTPError as error:
        attempt.error = f"{type(error).__name__}: {error}"
    else:
        attempt.status = response.status_code
        attempt.text = response.text
        attempt.retry_after = response.headers.get("retry-after")
        try:
            attempt.body = response.json()
        except ValueError:
            attempt.body = None
    track.attempts.append(attempt)
    return attempt


class Load:
    """`threads` clients, each sending tracks with fresh idempotency keys until stopped; every
    answer (or exception) is kept on its Track."""

    def __init__(
        self,
        server: ServerProcess,
        customers: list[str],
        rng: random.Random,
        *,
        threads: int = 8,
        timeout: float = 30.0,
        prefix: str = "k",
    ) -> None:
        self.server = server
        self.customers = customers
        self.threads = threads
        self.timeout = timeout
        self.prefix = prefix
        self.tracks: list[Track] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._up = threading.Event()  # cleared while the server is known to be down
        self._up.set()
        # each thread draws from its own generator, seeded from the run's seed
        self._seeds = [rng.randrange(2**32) for _ in range(threads)]
        self._workers: list[threading.Thread] = []
        self.failures: list[BaseException] = []

    def _new_track(self, rng: random.Random) -> Track:
        with self._lock:
            track = Track(
                key=f"{self.prefix}-{len(self.tracks)}",
                customer=rng.choice(self.customers),
                value=rng.randint(1, 9),
            )
            self.tracks.append(track)
        return track

    def _run(self, index: int) -> None:
        rng = random.Random(self._seeds[index])
        try:
            with httpx.Client(
                base_url=self.server.base,
                headers=self.server.headers,
                timeout=self.timeout,
            ) as client:
                while not self._stop.is_set():
                    if not self._up.wait(timeout=0.1):
                        continue
                    attempt = send_track(client, self._new_track(rng), "load")
                    if attempt.error is not None and attempt.error.startswith("ConnectError"):
                        time.sleep(0.1)  # the server is down: don't spin through keys
                    elif attempt.status == 503:
                        time.sleep(0.02)
        except BaseException as error:  # pragma: no cover - reported by stop()
            self.failures.append(error)

    def start(self) -> None:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def pause(self) -> None:
        """No new tracks (those in flight go on): the server is about to go down. Requests
        refused while it is down never reach it, so they would only burn keys."""
        self._up.clear()

    def resume(self) -> None:
        self._up.set()

    def stop(self) -> None:
        self._up.set()
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout + 30)
            assert not worker.is_alive(), "a load thread did not finish"
        assert not self.failures, self.failures

    def sent(self) -> int:
        with self._lock:
            return len(self.tracks)


def settle(server: ServerProcess, tracks: list[Track], *, deadline_seconds: float = 120) -> int:
    """Retry every track whose last attempt was not applied, with the same key, until it gets
    200 or 409 duplicate_idempotency_key. Returns the number of retries sent."""
    retries = 0
    deadline = time.monotonic() + deadline_seconds
    pending = [t for t in tracks if not t.settled]
    with httpx.Client(base_url=server.base, headers=server.headers, timeout=30) as client:
        while pending:
            assert time.monotonic() < deadline, (
                f"{len(pending)} tracks never settled; e.g. {pending[0].key}: "
                f"{[a.describe() for a in pending[0].attempts]}\n{server.log_tail()}"
            )
            still = []
            for track in pending:
                retries += 1
                attempt = send_track(client, track, "retry")
                if not attempt.applied:
                    still.append(track)
            pending = still
            if pending:
                time.sleep(0.5)
    return retries


def found_applied_on_retry(tracks: list[Track]) -> int:
    """Tracks whose first answer was an error or none, and whose retry found the key already
    used: applied by the attempt that failed (the commit went through, its answer did not)."""
    return sum(
        1
        for t in tracks
        if t.attempts[0].status != 200
        and any(a.phase == "retry" and a.status == 409 for a in t.attempts)
    )


def all_events(client: httpx.Client, customer: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        body: dict[str, Any] = {"customer_id": customer, "limit": 1000}
        if cursor is not None:
            body["start_cursor"] = cursor
        response = client.post("/v1/events.list", json=body)
        assert response.status_code == 200, response.text
        page = response.json()
        assert all(isinstance(e, dict) for e in page["list"]), f"events.list: {page}"[:2000]
        events += page["list"]
        cursor = page["next_cursor"]
        if not cursor:
            return events


def check_ledger(server: ServerProcess, tracks: list[Track], customers: list[str]) -> None:
    """Every applied track is in the ledger exactly once, nothing else is, and every usage is
    the sum of the applied values."""
    assert all(t.settled for t in tracks)
    by_key = {t.key: t for t in tracks}
    assert len(by_key) == len(tracks), "idempotency keys must be unique"
    with httpx.Client(base_url=server.base, headers=server.headers, timeout=60) as client:
        for customer in customers:
            mine = [t for t in tracks if t.customer == customer]
            events = all_events(client, customer)
            ids = [e["id"] for e in events]
            assert len(ids) == len(set(ids)), f"{customer}: an event id is listed twice"
            keys = [e["idempotency_key"] for e in events]
            doubled = [k for k, n in Counter(keys).items() if n > 1]
            assert not doubled, f"{customer}: tracks applied twice: {doubled[:10]}"
            unknown = set(keys) - {t.key for t in mine}
            assert not unknown, f"{customer}: events no request asked for: {sorted(unknown)[:10]}"
            missing = {t.key for t in mine} - set(keys)
            lost = [
                (by_key[k].key, [a.describe() for a in by_key[k].attempts]) for k in sorted(missing)
            ]
            assert not lost, f"{customer}: {len(lost)} applied tracks not in the ledger: {lost[:5]}"
            # the number of events is the number of distinct applied keys, never more
            assert len(events) == len(mine)
            event_of = {e["idempotency_key"]: e for e in events}
            for track in mine:
                event = event_of[track.key]
                assert Decimal(str(event["value"])) == track.value, (track, event)
                if track.event_id is not None:
                    assert event["id"] == track.event_id, (track.key, track.event_id, event)
            response = client.post("/v1/customers.get", json={"customer_id": customer})
            assert response.status_code == 200, response.text
            balance = response.json()["balances"][FEATURE]
            expected = sum(t.value for t in mine)
            assert Decimal(str(balance["usage"])) == expected, (customer, balance, expected)
            assert Decimal(str(balance["remaining"])) == 10**12 - expected, (customer, balance)


def ledger_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "allotment"), "ledger", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )

"""HTTP servers on free ports of 127.0.0.1: `allotment serve --workers N`, and the baseline
apps (baseline_apps.py) on the same server (uvicorn with uvloop and httptools). Each runs in
its own session and is stopped (SIGTERM, then SIGKILL of its own process group) at the end."""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

__all__ = ["Server", "allotment_command", "baseline_command", "free_port", "start"]

ROOT = Path(__file__).resolve().parent.parent


def allotment_command() -> list[str]:
    script = Path(sys.executable).parent / "allotment"
    if script.exists():
        return [str(script)]
    found = shutil.which("allotment")
    if found is None:
        raise RuntimeError("the allotment command is not installed (make install)")
    return [found]


def baseline_command(app: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"benchmarks.baseline_apps:{app}",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    def __init__(
        self,
        name: str,
        command: list[str],
        port: int,
        log: Path,
        env: dict[str, str],
        workers: int,
    ) -> None:
        self.name = name
        self.port = port
        self.log = log
        self.workers = workers
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    if len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself with one worker, else its
        children (uvicorn's supervisor does not serve)."""
        children = _descendants(self.process.pid)
        if self.workers == 1:
            return [self.process.pid]
        return children

    def peak_rss_mib(self) -> float:
        """The largest peak resident set (VmHWM) among the workers."""
        peaks = [_status_kib(pid, "VmHWM") for pid in self.worker_pids()]
        return max((p for p in peaks if p is not None), default=0) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # workers left behind by a supervisor that died first belong to our process group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start(
    name: str, command: list[str], port: int, log: Path, env: dict[str, str], workers: int
) -> Server:
    server = Server(name, command, port, log, env, workers)
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    frontier = [root]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found.extend(children)
        frontier.extend(children)
    return [pid for pid in found if _is_worker(pid)]


def _is_worker(pid: int) -> bool:
    """A multiprocessing helper (the resource tracker) is not a worker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"resource_tracker" not in command


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None

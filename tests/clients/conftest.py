"""Fixtures for the official-client tests: a real `allotment serve` process per database kind.

The clients under test are the unmodified official packages: `autumn-js` 1.3.13 (npm, run by
node from tests/clients/js), `autumn-sdk` 1.2.0 and the legacy `autumn-py` 3.1.9 (PyPI, the
`test` extra). Each is always built fail-closed (`failOpen: false` / `fail_open=False`), so a
broken server can never read as "allowed".

`allotment_server` is session-scoped and parametrized over SQLite (a temp file) and PostgreSQL
(a throwaway database from `postgres_server`; skipped when unreachable, a failure under
ALLOTMENT_REQUIRE_POSTGRES=1). It starts the server on a free port on 127.0.0.1, waits for
/health, and at the end sends SIGTERM and asserts a prompt exit with no traceback in its log
(test_server_process.py asserts the exit code itself).
Tests isolate themselves by tenant: `tenant` makes a fresh organization and key (with the
function `allotment keys create` runs), so every test can create the seed catalog from scratch.

A missing client (node/npm absent, a PyPI package not installed) skips loudly, or fails when
ALLOTMENT_REQUIRE_CLIENTS=1.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import httpx
import pytest

from allotment.cli.server import create_key

REQUIRE_CLIENTS = os.environ.get("ALLOTMENT_REQUIRE_CLIENTS") == "1"
STARTUP_SECONDS = 60.0
STOP_SECONDS = 20.0
_client_problems: list[str] = []


# --- missing clients -----------------------------------------------------------------------------


def client_unavailable(message: str) -> NoReturn:
    """Skip the test loudly (a banner at the end of the run), or fail it when
    ALLOTMENT_REQUIRE_CLIENTS=1."""
    if message not in _client_problems:
        _client_problems.append(message)
    if REQUIRE_CLIENTS:
        pytest.fail(f"{message} (ALLOTMENT_REQUIRE_CLIENTS=1)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def import_client(module: str, requirement: str) -> ModuleType:
    """Import an official client package, or skip/fail loudly when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        client_unavailable(
            f"{requirement} is not installed ({error}); run `pip install -e '.[test]'`"
        )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _client_problems:
        terminalreporter.write_sep("!", "OFFICIAL CLIENT TESTS COULD NOT RUN", red=True, bold=True)
        for problem in _client_problems:
            terminalreporter.write_line(f"  {problem}", red=True)
        terminalreporter.write_line(
            "Set ALLOTMENT_REQUIRE_CLIENTS=1 to make a missing client a failure.", red=True
        )


# --- the server process ---------------------------------------------------------------------


def allotment_command() -> list[str]:
    """The `allotment` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("allotment")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "allotment.cli"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def dead_server_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port just probed free), for fail-closed
    probes: a client built fail-closed must raise there, never answer `allowed`."""
    return f"http://127.0.0.1:{_free_port()}"


def _check_key_prefix(key: str, *, env: str, publishable: bool) -> None:
    prefix = ("am_pk_" if publishable else "am_sk_") + ("live_" if env == "live" else "test_")
    assert key.startswith(prefix) and len(key) > len(prefix) + 20, key


@dataclass
class ServerProcess:
    """One `allotment serve` process, its database and the key it printed on first start."""

    kind: str
    url: str
    database_url: str
    first_key: str
    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def describe(self) -> str:
        return (
            f"allotment serve ({self.kind}, {self.url})\n--- stdout ---\n{self.output()}"
            f"--- stderr ---\n{self.errors()}"
        )

    def new_key(self, org: str, *, env: str = "sandbox", publishable: bool = False) -> str:
        """A new key on the server's database, made in-process by the function that
        `allotment keys create` runs (the CLI costs ~2 s a call; see `cli_new_key`)."""
        key = create_key(self.database_url, org=org, env=env, publishable=publishable)
        _check_key_prefix(key, env=env, publishable=publishable)
        return key

    def cli_new_key(self, org: str, *, env: str = "sandbox", publishable: bool = False) -> str:
        """`allotment keys create` on the server's database: the key is the last stdout line."""
        command = [
            *allotment_command(),
            "keys",
            "create",
            "--database-url",
            self.database_url,
            "--org",
            org,
            "--env",
            env,
        ]
        if publishable:
            command.append("--publishable")
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"keys create failed: {done.stdout}\n{done.stderr}"
        key = done.stdout.strip().splitlines()[-1].strip()
        _check_key_prefix(key, env=env, publishable=publishable)
        return key

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code (kills and fails after STOP_SECONDS)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_SECONDS)
            pytest.fail(f"the server ignored SIGTERM for {STOP_SECONDS} s\n{self.describe()}")


def start_server(
    kind: str, database_url: str, directory: Path, *, first_start: bool = True
) -> ServerProcess:
    """Start `allotment serve` on a free port and wait until /health answers ok. On a first
    start (an empty database) it must print `Secret key: am_sk_test_…`; on a restart it must
    not print one."""
    last_problem = ""
    for attempt in range(3):  # a free port can be taken between probe and bind: retry
        port = _free_port()
        stdout_path = directory / f"server-{attempt}.out"
        stderr_path = directory / f"server-{attempt}.err"
        command = [
            *allotment_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
        ]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        server = ServerProcess(
            kind, f"http://127.0.0.1:{port}", database_url, "", process, stdout_path, stderr_path
        )
        if _wait_until_healthy(server):
            try:
                output = server.output()
                assert f"allotment listening on {server.url}" in output, server.describe()
                found = re.search(r"^Secret key: (am_sk_test_\S+)$", output, re.MULTILINE)
                if first_start:
                    assert found, f"no 'Secret key: am_sk_test_…' line\n{server.describe()}"
                    server.first_key = found.group(1)
                else:
                    assert not found, f"a restart printed a new key\n{server.describe()}"
            except BaseException:
                server.stop()
                raise
            return server
        last_problem = server.describe()
        if server.process.poll() is None:
            server.stop()
        if "address already in use" not in server.errors().lower():
            break
    pytest.fail(f"the server did not become healthy\n{last_problem}", pytrace=False)


def _wait_until_healthy(server: ServerProcess) -> bool:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                response = http.get(f"{server.url}/health")
                if response.status_code == 200 and response.json() == {"status": "ok"}:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def allotment_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A real server process on a fresh database of each kind, stopped with SIGTERM at the end."""
    directory = tmp_path_factory.mktemp(f"server-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{directory / 'allotment.db'}"
    else:
        factory: Callable[[], str] = request.getfixturevalue("postgres_server")
        database_url = factory()
    server = start_server(request.param, database_url, directory)
    yield server
    code = server.stop()
    # Strictly "exit 0 on SIGTERM" is test_server_process.py's job; here any graceful end will
    # do (uvicorn re-raises the SIGTERM it caught once it has shut down), so that one defect
    # does not turn into an error on whichever test happens to run last.
    assert code in (0, -signal.SIGTERM), f"the server exited with {code}\n{server.describe()}"
    assert "Traceback" not in server.errors(), f"the server logged a traceback\n{server.describe()}"


@dataclass(frozen=True)
class Tenant:
    """A fresh organization on the shared server, and its sandbox secret key."""

    server: ServerProcess
    org: str
    key: str

    @property
    def url(self) -> str:
        return self.server.url

    def headers(self, api_version: str = "2.5.0") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "x-api-version": api_version}

    def post(self, path: str, body: dict[str, Any], *, api_version: str = "2.5.0") -> Any:
        """A plain HTTP call (for what no client can do), which must answer 200."""
        response = httpx.post(
            f"{self.url}{path}", json=body, headers=self.headers(api_version), timeout=10.0
        )
        assert response.status_code == 200, (
            f"POST {path} {body} -> {response.status_code} {response.text}"
        )
        return response.json()


def make_tenant(server: ServerProcess, label: str) -> Tenant:
    org = f"{label}-{uuid.uuid4().hex[:8]}"
    return Tenant(server, org, server.new_key(org))


@pytest.fixture
def tenant(allotment_server: ServerProcess, request: pytest.FixtureRequest) -> Tenant:
    """A fresh organization (so a test may create the seed catalog itself)."""
    return make_tenant(allotment_server, request.node.name.split("[")[0][:40])

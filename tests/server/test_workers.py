"""`allotment serve --workers 4`: 2,000 concurrent check+send_event over HTTP against 1,000
credits allow exactly 1,000, on a real server process, and the ledger verifies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real `allotment serve --workers 4`; yields (base URL, secret key)."""
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            str(BIN / "allotment"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "4",
            "--database-url",
            database_url,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    log.seek(0)
    key = next(line.split()[-1] for line in log.read().splitlines() if "Secret key" in line)
    yield base, key
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, (tmp_path / "serve.log").read_text()
    log.close()


async def _hammer(base: str, key: str, total: int) -> list[bool]:
    headers = {"Authorization": f"Bearer {key}", "x-api-version": "2.4.0"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=httpx.Timeout(300, pool=None)
    ) as client:

        async def one(n: int) -> bool:
            response = await client.post(
                "/v1/balances.check",
                json={
                    "customer_id": "c",
                    "feature_id": "work",
                    "required_balance": 1,
                    "send_event": True,
                    "properties": {"n": n},
                },
            )
            assert response.status_code == 200, response.text
            return bool(response.json()["allowed"])

        return await asyncio.gather(*(one(n) for n in range(total)))


def test_four_workers_never_overdraw(server: tuple[str, str], database_url: str) -> None:
    base, key = server
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
        for path, body in [
            (
                "features.create",
                {"feature_id": "work", "name": "Work", "type": "metered", "consumable": True},
            ),
            (
                "features.create",
                {
                    "feature_id": "pool",
                    "name": "Pool",
                    "type": "credit_system",
                    "credit_schema": [{"metered_feature_id": "work", "credit_cost": 1}],
                },
            ),
            (
                "plans.create",
                {
                    "plan_id": "p",
                    "name": "P",
                    "auto_enable": True,
                    "items": [{"feature_id": "pool", "included": 1000}],
                },
            ),
            ("customers.get_or_create", {"customer_id": "c"}),
        ]:
            assert client.post(f"/v1/{path}", json=body).status_code == 200
        results = asyncio.run(_hammer(base, key, 2000))
        assert sum(results) == 1000
        customer = client.post("/v1/customers.get", json={"customer_id": "c"}).json()
        assert customer["balances"]["pool"]["remaining"] == 0
        assert customer["balances"]["pool"]["usage"] == 1000
    verify = subprocess.run(
        [str(BIN / "allotment"), "ledger", "verify", "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

"""Driving `wrk` (Debian package `wrk`) with the Lua scripts in benchmarks/wrk/, which POST
track- or check-shaped bodies with customer ids spread over the seeded customers (or one hot
customer) and print one JSON line of results from `done()`."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.report import Measurement

__all__ = ["INSTALL_HINT", "SCRIPTS", "WrkLoad", "run_wrk", "wrk_path"]

SCRIPTS = Path(__file__).resolve().parent / "wrk"
INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk"


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass(frozen=True)
class WrkLoad:
    seconds: int
    connections: int
    customers: int
    hot: bool = False
    key: str = "none"  # the API key sent as a bearer token

    def lasting(self, seconds: int) -> WrkLoad:
        return replace(self, seconds=seconds)


def run_wrk(url: str, script: str, load: WrkLoad) -> Measurement:
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError(INSTALL_HINT)
    command = [
        wrk,
        "-t1",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPTS / f"{script}.lua"),
        url,
        "--",
        str(load.customers),
        "1" if load.hot else "0",
        load.key,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next(
        (ln for ln in reversed(result.stdout.splitlines()) if ln.startswith('{"requests"')), None
    )
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    data = json.loads(line)
    errors = int(data["status_errors"]) + int(data["socket_errors"])
    return Measurement(
        count=int(data["requests"]) - errors,
        seconds=int(data["duration_us"]) / 1e6,
        p50_ms=int(data["p50_us"]) / 1e3,
        p99_ms=int(data["p99_us"]) / 1e3,
        errors=errors,
    )

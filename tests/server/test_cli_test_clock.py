"""`allotment customers advance-test-clock` as a process, on a database the embedded API
wrote (in 2099, so real time never catches up with the test): the monthly reset happens at the
instant, backwards is refused with exit 1, and the ledger verifies."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from allotment import Allotment
from allotment.domain.clock import to_ms
from tests.catalogs import seed_catalog
from tests.conftest import FakeClock

SCRIPT = str(Path(sys.executable).with_name("allotment"))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=60, check=False)


def test_advance_test_clock_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clock.db'}"
    start = datetime(2099, 1, 31, 12, tzinfo=UTC)
    engine = Allotment(url, clock=FakeClock(start))
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.track(customer_id="u", feature_id="premium_request", value=10)
    engine.close()

    before = cli(
        "customers", "advance-test-clock", "u", "2099-02-28T11:59:59.999", "--database-url", url
    )
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip().splitlines()[-1] == str(
        to_ms(datetime(2099, 2, 28, 11, 59, 59, 999000, tzinfo=UTC))
    )
    assert "70" in before.stdout
    at = cli(
        "customers",
        "advance-test-clock",
        "u",
        str(to_ms(datetime(2099, 2, 28, 12, tzinfo=UTC))),
        "--database-url",
        url,
    )
    assert at.returncode == 0, at.stderr
    reopened = Allotment(url)
    assert reopened.customers.get(customer_id="u").balances["credits"].remaining == 100
    reopened.close()

    backwards = cli("customers", "advance-test-clock", "u", "2099-02-01", "--database-url", url)
    assert backwards.returncode == 1
    assert "invalid_inputs" in backwards.stdout + backwards.stderr
    assert "Traceback" not in backwards.stderr
    verify = cli("ledger", "verify", "--database-url", url)
    assert verify.returncode == 0, verify.stdout

"""Fixtures: every engine test runs on SQLite always, and on PostgreSQL when it is reachable.

PostgreSQL: `ALLOTMENT_TEST_POSTGRES_URL` (default postgresql://postgres@127.0.0.1:5432/postgres)
is the server; each test session creates its own throwaway database and drops only that one.
If the server is unreachable the PostgreSQL half is skipped and the run says so loudly; with
`ALLOTMENT_REQUIRE_POSTGRES=1` (CI) an unreachable server is a failure instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from allotment import Allotment

POSTGRES_SERVER = os.environ.get(
    "ALLOTMENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("ALLOTMENT_REQUIRE_POSTGRES") == "1"
# the reliability tests (crash, faults, simulation, fuzz) run a bounded version by default and
# their long version with ALLOTMENT_LONG=1
LONG = os.environ.get("ALLOTMENT_LONG") == "1"
_postgres_problem: list[str] = []


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 31, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment


def _admin_url() -> str:
    return POSTGRES_SERVER.replace("postgresql://", "postgresql+psycopg://", 1)


def _postgres_reachable() -> bool:
    try:
        engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as error:
        _postgres_problem.append(f"{type(error).__name__}: {error}".splitlines()[0])
        return False


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Callable[[], str]]:
    """A factory of throwaway PostgreSQL databases, all dropped at the end of the session."""
    if not _postgres_reachable():
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER}: {_postgres_problem[-1]}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (ALLOTMENT_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make() -> str:
        name = f"allotment_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return str(
            make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
        )

    yield make
    with admin.connect() as connection:
        for name in created:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'allotment.db'}"
    factory: Callable[[], str] = request.getfixturevalue("postgres_server")
    return factory()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_engine(database_url: str, clock: FakeClock) -> Iterator[Callable[..., Allotment]]:
    """Build engines on this test's database (all share the test's clock by default)."""
    engines: list[Allotment] = []

    def make(**options: object) -> Allotment:
        options.setdefault("clock", clock)
        engine = Allotment(database_url, **options)  # type: ignore[arg-type]
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


@pytest.fixture
def engine(make_engine: Callable[..., Allotment]) -> Allotment:
    return make_engine()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _postgres_problem:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS WERE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(
            f"PostgreSQL was not reachable ({_postgres_problem[-1]}); only SQLite was tested. "
            "Set ALLOTMENT_TEST_POSTGRES_URL, or ALLOTMENT_REQUIRE_POSTGRES=1 to make this fail.",
            red=True,
        )

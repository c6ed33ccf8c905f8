"""Throwaway databases: SQLite files in a temporary directory and PostgreSQL databases named
`allotment_bench_<hex>`, all removed when the workspace closes."""

from __future__ import annotations

import enum
import secrets
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg

__all__ = ["DEFAULT_POSTGRES_URL", "Backend", "Workspace", "sqlalchemy_url"]

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class Backend(enum.StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///") :]


def postgres_reachable(admin_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(admin_url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]
    return None


class Workspace:
    """Owns every database and file a run creates."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.directory = Path(tempfile.mkdtemp(prefix="allotment-bench-"))
        self._postgres: list[str] = []

    def new_database(self, backend: Backend, purpose: str) -> str:
        if backend is Backend.SQLITE:
            return f"sqlite:///{self.directory / f'{purpose}-{secrets.token_hex(3)}.db'}"
        name = f"allotment_bench_{secrets.token_hex(6)}"
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self._postgres.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def path(self, name: str) -> Path:
        return self.directory / name

    def close(self) -> None:
        if self._postgres:
            with psycopg.connect(self.admin_url, autocommit=True) as connection:
                for name in self._postgres:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._postgres.clear()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

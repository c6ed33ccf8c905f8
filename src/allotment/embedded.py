"""The embedded engine: `Allotment` mirrors the official `autumn_sdk.Autumn` client keyword
for keyword, so code written for that client runs in-process by changing the constructor.

It is a tenant session (`session.Tenant`) that owns its engine; each call is one transaction.
"""

from __future__ import annotations

from allotment.domain.clock import Clock
from allotment.session.engine import Engine
from allotment.session.tenant import Tenant
from allotment.storage.database import Database

__all__ = ["Allotment"]


class Allotment(Tenant):
    """`Allotment(database_url=None, *, org="default", env="sandbox", clock=None)`.

    `database_url`: a SQLite file (default `./allotment.db`, or `ALLOTMENT_DATABASE_URL`) or
    `postgresql://...`. One org and environment per instance; `clock` returns aware UTC
    datetimes (tests and simulations travel in time with it)."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        org: str = "default",
        env: str = "sandbox",
        clock: Clock | None = None,
        migrate: bool = True,
    ) -> None:
        engine = Engine(database_url, clock=clock, migrate=False)
        try:
            scope = engine.scope(org, env)
            if migrate:
                engine.runner.migrate()
        except BaseException:
            engine.close()
            raise
        super().__init__(scope)
        self.engine = engine

    @property
    def database(self) -> Database:
        return self.engine.database

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Allotment:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

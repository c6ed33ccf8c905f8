"""The engine: one database, its runner (the only owner of transactions) and the clock. Every
caller (embedded code, the HTTP server, the CLI) opens one and works through a tenant session
(`engine.tenant(org, env)`), or through the few operations here that span every tenant."""

from __future__ import annotations

from allotment.domain.clock import Clock
from allotment.domain.errors import invalid
from allotment.domain.keys import ApiKey
from allotment.domain.ledger import LedgerReport
from allotment.runner import Runner
from allotment.services import keys as key_service
from allotment.services import ledger as ledger_service
from allotment.session.namespace import Scope
from allotment.session.tenant import Tenant
from allotment.storage.database import Database, default_database_url

__all__ = ["ENVIRONMENTS", "Engine"]

ENVIRONMENTS = ("sandbox", "live")


class Engine:
    """`Engine(database_url=None, *, clock=None, migrate=True)`: a SQLite file (default
    `./allotment.db`, or `ALLOTMENT_DATABASE_URL`) or `postgresql://...`."""

    def __init__(
        self, database_url: str | None = None, *, clock: Clock | None = None, migrate: bool = True
    ) -> None:
        self.database_url = database_url or default_database_url()
        self.database = Database(self.database_url)
        self.runner = Runner(self.database, clock)
        if migrate:
            self.runner.migrate()

    @classmethod
    def over(cls, database: Database, *, clock: Clock | None = None) -> Engine:
        """An engine over a database opened (and migrated) elsewhere: tests and benchmarks that
        also reach into its tables."""
        engine = cls.__new__(cls)
        engine.database_url = database.engine.url.render_as_string(hide_password=False)
        engine.database = database
        engine.runner = Runner(database, clock)
        return engine

    @property
    def local_database(self) -> bool:
        """SQLite: a local file, where a call is CPU work rather than a wait on the network."""
        return self.database.is_sqlite

    @property
    def url(self) -> str:
        """The database URL for display (its password hidden)."""
        return self.database.engine.url.render_as_string()

    def tenant(
        self,
        org: str = "default",
        env: str = "sandbox",
        *,
        actor: str = "embedded",
        creates_missing_customers: bool = False,
    ) -> Tenant:
        """A session of one org and environment. `actor`: who makes manual changes (kept on
        their ledger entries); `creates_missing_customers`: check and track create a customer
        they do not know (API versions before 2.1)."""
        return Tenant(self.scope(org, env, actor, creates_missing_customers))

    def scope(
        self,
        org: str,
        env: str,
        actor: str = "embedded",
        creates_missing_customers: bool = False,
    ) -> Scope:
        if env not in ENVIRONMENTS:
            raise invalid("env must be sandbox or live")
        if not org or len(org) > 64:
            raise invalid("org must be a non-empty string of at most 64 characters")
        return Scope(self.runner, org, env, actor, creates_missing_customers)

    # what spans every tenant -------------------------------------------------------------

    def create_key(self, *, org: str, env: str, publishable: bool) -> str:
        """A new API key, shown once (only its hash is stored)."""
        return self.runner.run_global(
            lambda store, now: key_service.create(
                store.keys, now, org=org, env=env, publishable=publishable
            ),
            write=True,
        )

    def first_key(self) -> str | None:
        """On first start with no key at all, a sandbox secret key (so one command is enough
        to begin); None when a key exists."""
        return self.runner.run_global(
            lambda store, now: key_service.first_key(store.keys, now), write=True
        )

    def find_key(self, key: str) -> ApiKey | None:
        return self.runner.run_global(
            lambda store, _: key_service.find(store.keys, key), write=False
        )

    def verify_ledger(self) -> LedgerReport:
        """Every balance of every tenant against the fold of its entries."""
        return self.runner.run_global(
            lambda store, _: ledger_service.verify(store.ledger), write=False
        )

    def ping(self) -> None:
        """Raises when the database does not answer (the health probe)."""
        self.runner.run_global(lambda store, _: store.ping(), write=False)

    def close(self) -> None:
        self.runner.close()

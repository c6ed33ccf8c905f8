"""`allotment ...`: the command line (Typer)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allotment.cli.demo import run_demo
from allotment.cli.server import create_key, run_server
from allotment.services import ledger as ledger_service
from allotment.storage.database import Database, default_database_url
from allotment.storage.store import Store

app = typer.Typer(help="allotment: pricing, credits and entitlements (Autumn-compatible).")
ledger_app = typer.Typer(help="The append-only ledger.")
keys_app = typer.Typer(help="API keys.")
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")
console = Console()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLite file or postgresql:// URL "
        "(default: ALLOTMENT_DATABASE_URL, else ./allotment.db)",
    ),
]


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the database schema."""
    database = Database(database_url or default_database_url())
    database.migrate()
    console.print(f"database is up to date: {database.engine.url.render_as_string()}")
    database.dispose()


@app.command()
def demo(database_url: DatabaseUrl = None) -> None:
    """Run the seed example (credits for premium requests) and print the balances."""
    run_demo(database_url, console)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    database_url: DatabaseUrl = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
) -> None:
    """Serve the Autumn-compatible HTTP API (migrations are applied first)."""
    run_server(host=host, port=port, database_url=database_url, workers=workers)


@keys_app.command("create")
def keys_create(
    database_url: DatabaseUrl = None,
    org: Annotated[str, typer.Option(help="Organisation the key belongs to")] = "default",
    env: Annotated[str, typer.Option(help="sandbox or live")] = "sandbox",
    publishable: Annotated[bool, typer.Option(help="A publishable (read and check) key")] = False,
) -> None:
    """Create an API key. The key is printed once, alone on the last line."""
    print(create_key(database_url, org=org, env=env, publishable=publishable))


@ledger_app.command("verify")
def ledger_verify(database_url: DatabaseUrl = None) -> None:
    """Fold every ledger entry into balances and compare with the stored balances."""
    database = Database(database_url or default_database_url())
    database.migrate()
    with database.transaction(write=False) as connection:
        report = ledger_service.verify(Store(connection, "", ""), all_tenants=True)
    database.dispose()
    console.print(report.summary())
    if not report.ok:
        table = Table("grant", "customer", "feature", "stored", "from entries")
        for m in report.mismatches:
            table.add_row(
                str(m.grant_id), m.customer_id, m.feature_id, str(m.stored), str(m.folded)
            )
        console.print(table)
        raise typer.Exit(1)


def main() -> None:
    app()

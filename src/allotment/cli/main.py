"""`allotment ...`: the command line (Typer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allotment.api.limits import DEFAULT_MAX_BODY_BYTES
from allotment.cli.demo import balances_table, run_demo
from allotment.cli.server import create_key, run_server
from allotment.domain.clock import to_ms
from allotment.domain.errors import AllotmentError
from allotment.session import Engine

app = typer.Typer(help="allotment: pricing, credits and entitlements (Autumn-compatible).")
ledger_app = typer.Typer(help="The append-only ledger.")
keys_app = typer.Typer(help="API keys.")
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")
customers_app = typer.Typer(help="Customers.")
app.add_typer(customers_app, name="customers")
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
    engine = Engine(database_url)
    console.print(f"database is up to date: {engine.url}")
    engine.close()


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
    rate_limit: Annotated[
        float,
        typer.Option(min=0, help="Requests per second per API key (0: no limit); 429 beyond"),
    ] = 0,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="Largest request body (413 beyond)")
    ] = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Serve the Autumn-compatible HTTP API (migrations are applied first)."""
    run_server(
        host=host,
        port=port,
        database_url=database_url,
        workers=workers,
        rate_limit=rate_limit,
        max_body_bytes=max_body_bytes,
    )


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
    engine = Engine(database_url)
    try:
        report = engine.verify_ledger()
    finally:
        engine.close()
    console.print(report.summary())
    if not report.ok:
        table = Table("grant", "customer", "feature", "stored", "from entries")
        for m in report.mismatches:
            table.add_row(
                str(m.grant_id), m.customer_id, m.feature_id, str(m.stored), str(m.folded)
            )
        console.print(table)
        raise typer.Exit(1)


def _instant(text: str) -> int:
    """Unix milliseconds, or an ISO-8601 time (UTC when it names no zone)."""
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("give Unix milliseconds or an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return to_ms(moment)


@customers_app.command("advance-test-clock")
def customers_advance_test_clock(
    customer_id: Annotated[str, typer.Argument(help="The customer whose clock moves")],
    frozen_time: Annotated[
        str, typer.Argument(help="Unix milliseconds or ISO-8601, e.g. 2027-03-01T00:00:00Z")
    ],
    database_url: DatabaseUrl = None,
    org: Annotated[str, typer.Option(help="Organisation")] = "default",
    env: Annotated[str, typer.Option(help="Environment (test clocks exist in sandbox)")] = (
        "sandbox"
    ),
) -> None:
    """Sandbox: move a customer's clock forward; resets, rollovers, expiries and locks due by
    then are applied. Prints the customer's balances at the new time."""
    engine = Engine(database_url)
    try:
        tenant = engine.tenant(org, env, actor="cli")
        clock = tenant.customers.advance_test_clock(
            customer_id=customer_id, frozen_time=_instant(frozen_time)
        )
        customer = tenant.customers.get(customer_id=customer_id)
    except AllotmentError as error:
        console.print(f"[red]{error.code}[/red]: {error.message}")
        raise typer.Exit(1) from None
    finally:
        engine.close()
    at = datetime.fromtimestamp(clock.frozen_time / 1000, UTC).isoformat()
    console.print(balances_table(customer, title=f"{customer_id} at {at}"))
    print(clock.frozen_time)


def main() -> None:
    app()

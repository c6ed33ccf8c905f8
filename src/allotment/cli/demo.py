"""`allotment demo`: the seed example, end to end, on the embedded engine."""

from __future__ import annotations

import uuid

from rich.console import Console
from rich.table import Table

from allotment import Allotment, AllotmentError, ErrorCode
from allotment import wire as schemas


def _ensure_catalog(autumn: Allotment) -> None:
    try:
        autumn.features.create(
            feature_id="premium_request", name="Premium request", type_="metered", consumable=True
        )
        autumn.features.create(
            feature_id="credits",
            name="Credits",
            type_="credit_system",
            credit_schema=[{"metered_feature_id": "premium_request", "credit_cost": 3}],
        )
        autumn.plans.create(
            plan_id="pro",
            name="Pro",
            auto_enable=True,
            items=[{"feature_id": "credits", "included": 100, "reset": {"interval": "month"}}],
        )
    except AllotmentError as error:
        if error.code != ErrorCode.FEATURE_ALREADY_EXISTS:
            raise


def balances_table(customer: schemas.Customer, title: str | None = None) -> Table:
    """A customer's balances, one row a feature."""
    table = Table("feature", "granted", "remaining", "usage", "next reset (ms)", title=title)
    for feature_id, balance in customer.balances.items():
        table.add_row(
            feature_id,
            str(balance.granted),
            str(balance.remaining),
            str(balance.usage),
            str(balance.next_reset_at or "-"),
        )
    return table


def run_demo(database_url: str | None, console: Console) -> None:
    with Allotment(database_url) as autumn:
        _ensure_catalog(autumn)
        customer_id = f"demo_user_{uuid.uuid4().hex[:8]}"
        autumn.customers.get_or_create(customer_id=customer_id, name="Demo user")
        console.print(f"[bold]database[/bold] {autumn.database.engine.url.render_as_string()}")
        console.print(f"[bold]customer[/bold] {customer_id} on plan 'pro' (100 credits a month)")
        r = autumn.check(customer_id=customer_id, feature_id="premium_request", required_balance=6)
        assert r.balance is not None
        console.print(
            f"check 6 premium requests -> allowed={r.allowed}, required_balance="
            f"{r.required_balance} credits, {r.balance.feature_id} remaining {r.balance.remaining}"
        )
        t = autumn.track(customer_id=customer_id, feature_id="premium_request", value=6)
        assert t.balance is not None
        console.print(
            f"track 6 premium requests -> {t.balance.feature_id} remaining "
            f"{t.balance.remaining}, usage {t.balance.usage}"
        )
        customer = autumn.customers.get(customer_id=customer_id)
        console.print(balances_table(customer))
        console.print(autumn.verify().summary())

"""The one face (issue 11): an Engine (database, runner, clock) and its tenant sessions, shared
by embedded code, HTTP and the CLI; the engine's all-tenant operations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from allotment import Allotment
from allotment.domain.errors import AllotmentError
from allotment.session import Engine, Tenant
from tests.catalogs import seed_catalog
from tests.conftest import FakeClock


@pytest.fixture
def engine(database_url: str, clock: FakeClock) -> Iterator[Engine]:
    made = Engine(database_url, clock=clock)
    yield made
    made.close()


def _seeded(tenant: Tenant) -> None:
    seed_catalog(tenant)  # type: ignore[arg-type]
    tenant.customers.get_or_create(customer_id="user_1")


def test_tenants_of_one_engine_are_isolated(engine: Engine) -> None:
    acme, globex = engine.tenant("acme", "sandbox"), engine.tenant("globex", "sandbox")
    _seeded(acme)
    _seeded(globex)
    acme.track(customer_id="user_1", feature_id="premium_request", value=6)
    assert acme.customers.get(customer_id="user_1").balances["credits"].remaining == 82
    assert globex.customers.get(customer_id="user_1").balances["credits"].remaining == 100
    live = engine.tenant("acme", "live")
    with pytest.raises(AllotmentError) as raised:
        live.customers.get(customer_id="user_1")
    assert raised.value.code == "customer_not_found"
    report = engine.verify_ledger()
    assert report.ok and report.balances_checked == 2
    assert acme.verify().balances_checked == 1


def test_the_actor_of_a_session_is_kept_on_its_adjustments(engine: Engine) -> None:
    ops = engine.tenant("acme", "sandbox", actor="ops-console")
    _seeded(ops)
    ops.balances.update(customer_id="user_1", feature_id="credits", add_to_balance=5)
    with engine.database.engine.connect() as connection:
        notes = [
            row[0]
            for row in connection.exec_driver_sql(
                "SELECT note FROM entries WHERE kind = 'adjustment'"
            )
        ]
    assert notes and all('"ops-console"' in note for note in notes)


def test_a_session_refuses_an_unknown_environment_or_org(engine: Engine) -> None:
    for org, env in (("acme", "prod"), ("", "sandbox"), ("x" * 65, "live")):
        with pytest.raises(AllotmentError) as raised:
            engine.tenant(org, env)
        assert raised.value.code == "invalid_inputs"


def test_keys_are_made_once_and_found_by_their_secret(engine: Engine) -> None:
    first = engine.first_key()
    assert first is not None and first.startswith("am_sk_test_")
    assert engine.first_key() is None  # a key exists now
    live = engine.create_key(org="acme", env="live", publishable=True)
    found = engine.find_key(live)
    assert found is not None
    assert (found.org, found.env, found.kind) == ("acme", "live", "publishable")
    assert engine.find_key(live + "x") is None
    engine.ping()


def test_the_embedded_allotment_is_a_tenant_session(database_url: str, clock: FakeClock) -> None:
    with Allotment(database_url, org="acme", clock=clock) as autumn:
        assert isinstance(autumn, Tenant)
        assert (autumn.org, autumn.env) == ("acme", "sandbox")
        _seeded(autumn)
        other = Engine(database_url, clock=clock, migrate=False)
        try:
            same = other.tenant("acme", "sandbox")
            assert same.customers.get(customer_id="user_1").id == "user_1"
        finally:
            other.close()


def test_embedded_and_http_refuse_a_bad_type_alike(engine: Engine) -> None:
    """One request model per operation: the embedded call gets the HTTP API's 400 message."""
    tenant = engine.tenant("acme", "sandbox")
    _seeded(tenant)
    with pytest.raises(AllotmentError) as raised:
        tenant.customers.get_or_create(customer_id=5)  # type: ignore[arg-type]
    assert raised.value.code == "invalid_inputs"
    assert "customer_id" in raised.value.message

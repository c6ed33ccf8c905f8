"""Embedded: issue 10 (Autumn conformance, round 2), items 1, 2, 3 and 9 behave as over HTTP
(tests/api/test_conformance.py). Each test names the Autumn behaviour it relies on."""

from __future__ import annotations

import pytest

from allotment import Allotment
from allotment.domain.errors import AllotmentError
from tests.catalogs import seed_catalog


def test_a_lifetime_row_answers_reset_one_off(engine: Allotment) -> None:
    """Issue 10 item 1: a lifetime grant's row is `reset {interval: one_off, resets_at: None}`,
    and `balances.update(interval="one_off")` targets it and not the monthly row."""
    seed_catalog(engine)  # credits: 100 a month
    engine.customers.get_or_create(customer_id="u")
    engine.balances.create(customer_id="u", feature_id="credits", included_grant=40)
    engine.balances.update(customer_id="u", feature_id="credits", remaining=30, interval="one_off")
    rows = engine.customers.get(customer_id="u").balances["credits"].breakdown
    resets = {(row.reset.interval, row.reset.resets_at is None): row for row in rows if row.reset}
    lifetime = resets[("one_off", True)]
    monthly = resets[("month", False)]
    assert (lifetime.included_grant, lifetime.remaining, lifetime.reset.interval_count) == (
        40,
        30,
        1,
    )
    assert (monthly.included_grant, monthly.remaining) == (100, 100)
    assert engine.verify().ok


def test_track_on_a_boolean_feature_changes_nothing(engine: Allotment) -> None:
    """Issue 10 item 2: track of a boolean feature answers value 1, balance None, and records
    nothing; check with send_event on it stays an error (§8.7)."""
    engine.features.create(feature_id="sso", name="SSO", type_="boolean")
    engine.plans.create(plan_id="ent", name="Ent", auto_enable=True, items=[{"feature_id": "sso"}])
    engine.customers.get_or_create(customer_id="u")
    answer = engine.track(customer_id="u", feature_id="sso", idempotency_key="k1")
    assert (answer.value, answer.balance, answer.feature_id) == (1, None, "sso")
    assert engine.events.list(customer_id="u").list == []
    again = engine.track(customer_id="u", feature_id="sso", idempotency_key="k1", value=2)
    assert again.value == 2  # the key was not used up
    with pytest.raises(AllotmentError) as raised:
        engine.check(customer_id="u", feature_id="sso", send_event=True)
    assert raised.value.code == "invalid_request"
    assert engine.verify().ok


def test_track_answers_the_pool_once_the_own_balance_absorbs_nothing(engine: Allotment) -> None:
    """Issue 10 item 3 and §8.3: own balance while it absorbs some, the pool once it absorbs
    none."""
    seed_catalog(engine)
    engine.customers.get_or_create(customer_id="u")
    engine.balances.create(customer_id="u", feature_id="premium_request", included_grant=2)
    first = engine.track(customer_id="u", feature_id="premium_request", value=3)
    assert first.balance is not None
    assert (first.balance.feature_id, first.balance.remaining) == ("premium_request", 0)
    second = engine.track(customer_id="u", feature_id="premium_request", value=2)
    assert second.balance is not None
    assert (second.balance.feature_id, second.balance.remaining) == ("credits", 91)


def test_embedded_calls_are_the_newest_api_a_missing_customer_is_an_error(
    engine: Allotment,
) -> None:
    """Issue 10 item 9: the embedded API answers as API 2.1 and later: no customer is made."""
    seed_catalog(engine)
    for call in (engine.check, engine.track):
        with pytest.raises(AllotmentError) as raised:
            call(customer_id="nobody", feature_id="premium_request")
        assert raised.value.code == "customer_not_found"

"""Issue 10 (Autumn conformance, round 2), items 1, 2, 3 and 9, through the real
`autumn-sdk==1.2.0` against a real server (the client sends `x-api-version: 2.5.0`)."""

from __future__ import annotations

import pytest

from tests.clients.conftest import Tenant
from tests.clients.test_autumn_sdk import client, create_feature, error_of, errors, seed_features


def test_lifetime_rows_boolean_tracks_and_the_answering_pool(tenant: Tenant) -> None:
    """Item 1: a lifetime row parses as `reset.interval == "one_off"`, `resets_at` None (the
    client's schema lists `one_off` and makes `resets_at` nullable). Item 2: a track of a
    boolean feature is a 200 with `balance` None. Item 3 (and reference §8.3): the own balance
    answers while it absorbs some of the value, the pool once it absorbs none."""
    seed_features(tenant)
    create_feature(tenant, "sso", "SSO", "boolean")
    autumn = client(tenant.url, tenant.key)
    autumn.plans.create(
        plan_id="pro",
        name="Pro",
        auto_enable=True,
        items=[
            {"feature_id": "credits", "included": 100, "reset": {"interval": "month"}},
            {"feature_id": "sso"},
        ],
    )
    autumn.customers.get_or_create(customer_id="u")
    autumn.balances.create(customer_id="u", feature_id="premium_request", included_grant=2)

    [row] = autumn.customers.get(customer_id="u").balances["premium_request"].breakdown
    assert row.reset is not None
    assert (row.reset.interval, row.reset.resets_at) == ("one_off", None)

    flag = autumn.track(customer_id="u", feature_id="sso", async_=False)
    assert (flag.value, flag.balance) == (1, None)

    own = autumn.track(customer_id="u", feature_id="premium_request", value=3, async_=False)
    assert own.balance is not None
    assert (own.balance.feature_id, own.balance.remaining) == ("premium_request", 0)
    pool = autumn.track(customer_id="u", feature_id="premium_request", value=1, async_=False)
    assert pool.balance is not None
    assert (pool.balance.feature_id, pool.balance.remaining) == ("credits", 94)


def test_a_current_client_gets_404_for_a_missing_customer(tenant: Tenant) -> None:
    """Item 9: from API 2.1 on (autumn-sdk sends 2.5.0) check and track never create a
    customer: 404 `customer_not_found`."""
    seed_features(tenant)
    autumn = client(tenant.url, tenant.key)
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.check(customer_id="ghost", feature_id="premium_request")
    assert error_of(raised) == (404, "customer_not_found")
    with pytest.raises(errors.AutumnDefaultError) as raised:
        autumn.track(customer_id="ghost", feature_id="premium_request", async_=False)
    assert error_of(raised) == (404, "customer_not_found")

"""The seed example and more, run by the real `autumn-js@1.3.13` against a real server.

tests/clients/js/seed.mjs builds `new Autumn({secretKey, serverURL, failOpen: false})`, runs
every step and prints one JSON object: step name -> {"ok": parsed result} or {"error": ...}.
The client's results are camelCase (autumn-js converts the wire's snake_case). node_modules is
installed on demand with `npm install` (the registry must be reachable); without node or npm the
tests skip loudly, or fail under ALLOTMENT_REQUIRE_CLIENTS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import ServerProcess, client_unavailable, dead_server_url, make_tenant

JS_DIR = Path(__file__).parent / "js"
AUTUMN_JS_VERSION = "1.3.13"


def _installed_version() -> str | None:
    manifest = JS_DIR / "node_modules" / "autumn-js" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


@pytest.fixture(scope="session")
def node() -> str:
    """The node binary, with autumn-js@1.3.13 installed in tests/clients/js."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        client_unavailable("node and npm are needed for the autumn-js tests (Node 18+)")
    major = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    if int(major.stdout.strip().lstrip("v").split(".")[0]) < 18:
        client_unavailable(f"autumn-js needs Node 18+ (found {major.stdout.strip()})")
    if _installed_version() != AUTUMN_JS_VERSION:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefer-offline"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"npm install failed:\n{done.stdout}\n{done.stderr}"
    assert _installed_version() == AUTUMN_JS_VERSION, "npm did not install autumn-js 1.3.13"
    return node


@pytest.fixture(scope="module")
def js(node: str, allotment_server: ServerProcess) -> dict[str, Any]:
    """One run of seed.mjs against the server (in a fresh organization)."""
    tenant = make_tenant(allotment_server, "autumn-js")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTUMN_")}
    done = subprocess.run(
        [node, "seed.mjs", tenant.url, tenant.key, dead_server_url()],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"node seed.mjs failed:\n{done.stdout}\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"seed.mjs printed nothing\n{done.stderr}"
    results: dict[str, Any] = json.loads(lines[-1])
    return results


def ok(results: dict[str, Any], step: str) -> Any:
    """The parsed result of a step that must have succeeded."""
    outcome = results[step]
    assert "ok" in outcome, f"{step!r} raised: {json.dumps(outcome['error'], indent=2)}"
    return outcome["ok"]


def failed(results: dict[str, Any], step: str) -> dict[str, Any]:
    """The error of a step that must have raised."""
    outcome = results[step]
    assert "error" in outcome, f"{step!r} should have raised, got {json.dumps(outcome['ok'])}"
    error: dict[str, Any] = outcome["error"]
    return error


def test_seed_example(js: dict[str, Any]) -> None:
    created = ok(js, "features.create premium_request")
    assert (created["id"], created["type"], created["consumable"]) == (
        "premium_request",
        "metered",
        True,
    )
    credits = ok(js, "features.create credits")
    assert credits["type"] == "credit_system"
    assert credits["creditSchema"] == [{"meteredFeatureId": "premium_request", "creditCost": 3}]
    ok(js, "features.create api_call")
    plan = ok(js, "plans.create pro")
    assert (plan["id"], plan["autoEnable"]) == ("pro", True)
    assert plan["items"][0]["featureId"] == "credits"
    assert plan["items"][0]["included"] == 100
    assert plan["items"][0]["reset"]["interval"] == "month"

    customer = ok(js, "customers.getOrCreate")
    assert customer["id"] == "user_1"
    assert [s["planId"] for s in customer["subscriptions"]] == ["pro"]
    assert customer["balances"]["credits"]["remaining"] == 100

    check = ok(js, "check premium_request 6")
    assert check["allowed"] is True
    assert check["requiredBalance"] == 18
    assert check["balance"]["featureId"] == "credits"
    assert check["balance"]["remaining"] == 100
    assert check["flag"] is None

    track = ok(js, "track premium_request 6")
    assert track["value"] == 6
    assert track["balance"]["featureId"] == "credits"
    assert (track["balance"]["remaining"], track["balance"]["usage"]) == (82, 18)

    outside = ok(js, "check api_call")
    assert outside["allowed"] is False
    assert outside["balance"] is None


def test_attach_add_on_then_check_and_track(js: dict[str, Any]) -> None:
    assert ok(js, "plans.create booster")["addOn"] is True
    attached = ok(js, "billing.attach booster")
    assert attached["customerId"] == "user_1"
    assert attached["paymentUrl"] is None
    check = ok(js, "check api_call after attach")
    assert check["allowed"] is True
    assert (check["balance"]["featureId"], check["balance"]["remaining"]) == ("api_call", 10)
    track = ok(js, "track api_call 4")
    assert (track["balance"]["remaining"], track["balance"]["usage"]) == (6, 4)


def test_send_event_and_locks(js: dict[str, Any]) -> None:
    sent = ok(js, "check send_event premium_request 2")
    assert sent["allowed"] is True
    assert sent["requiredBalance"] == 6
    assert sent["balance"]["remaining"] == 76  # 82 - 2 x 3, deducted by the check itself

    held = ok(js, "check lock L1 premium_request 5")
    assert held["allowed"] is True
    assert held["balance"]["remaining"] == 61  # reserved
    assert ok(js, "balances.finalize L1 release") == {"success": True}
    held = ok(js, "check lock L2 premium_request 1")
    assert held["balance"]["remaining"] == 73  # the release gave the 15 back: 76 - 3
    assert ok(js, "balances.finalize L2 confirm") == {"success": True}


def test_entities_and_customers_get(js: dict[str, Any]) -> None:
    assert ok(js, "features.create seats")["consumable"] is False
    ok(js, "plans.create team")
    ok(js, "billing.attach team")
    entity = ok(js, "entities.create seat_1")
    assert (entity["id"], entity["name"]) == ("seat_1", "Alice")
    fetched = ok(js, "entities.get seat_1")
    assert (fetched["id"], fetched["name"]) == ("seat_1", "Alice")

    customer = ok(js, "customers.get")
    assert customer["id"] == "user_1"
    assert sorted(s["planId"] for s in customer["subscriptions"]) == ["booster", "pro", "team"]
    balances = customer["balances"]
    assert balances["credits"]["remaining"] == 73  # the confirmed lock L2 stayed deducted
    assert balances["api_call"]["remaining"] == 6
    assert (balances["seats"]["granted"], balances["seats"]["usage"]) == (3, 1)

    assert ok(js, "entities.delete seat_1") == {"success": True}
    after = ok(js, "customers.get after entities.delete")
    assert after["balances"]["seats"]["usage"] == 0


def test_advance_test_clock(js: dict[str, Any]) -> None:
    clock = ok(js, "customers.advanceTestClock")
    assert clock == {
        "customerId": "user_1",
        "frozenTime": ok(js, "frozenTime"),
        "status": "ready",
    }
    later = ok(js, "customers.get after advanceTestClock")["balances"]["credits"]
    # pro's 100 monthly credits are whole again; the booster's lifetime 50 were drawn after
    assert later["remaining"] > 73
    assert later["nextResetAt"] > clock["frozenTime"]


@pytest.mark.parametrize(
    ("step", "status", "code"),
    [
        ("error unknown feature", 404, "feature_not_found"),
        ("error unknown customer", 404, "customer_not_found"),
        ("error attach unknown plan", 404, "plan_not_found"),
        ("error bad key", 401, "invalid_secret_key"),
    ],
)
def test_errors_raise_with_status_and_code(
    js: dict[str, Any], step: str, status: int, code: str
) -> None:
    error = failed(js, step)
    assert error["name"] == "AutumnDefaultError"
    assert error["statusCode"] == status
    assert error["json"]["code"] == code
    assert error["json"]["message"]


def test_client_is_fail_closed(js: dict[str, Any]) -> None:
    """With failOpen: false, a check against a dead server throws instead of allowing."""
    error = failed(js, "fail-closed probe")
    assert error["name"] == "ConnectionError", error


def test_rollovers_parse_in_the_client(js: dict[str, Any]) -> None:
    ok(js, "balances.create rolling promo")
    balance = ok(js, "customers.get user_2")["balances"]["roll_msg"]
    # 40 days on: one monthly reset; 100 unused -> 50 (50% cap, never expires); promo 10 -> 4
    pieces = sorted((r["balance"], r["expiresAt"]) for r in balance["rollovers"])
    assert [p[0] for p in pieces] == [4, 50]
    assert pieces[1][1] == 253402300799999  # never: the client requires a number
    assert (balance["granted"], balance["remaining"]) == (164, 164)
    rollover = ok(js, "plans.get rolling")["items"][0]["rollover"]
    assert rollover["expiryDurationType"] == "forever" and rollover["maxPercentage"] == 50


def test_loose_grants_in_the_client(js: dict[str, Any]) -> None:
    """Issue 10 items 4-7 through autumn-js: `nextResetAt` is the first reset boundary
    (Autumn `create/create-balance-next-reset-at.test.ts`); a balanceId is unique per customer
    (`create/create-balance-with-id.test.ts`: 409 for the same customer, fine for another);
    rollover without reset is refused (`validateCreateBalance.ts`, 400); `includedGrant` with
    `remaining` sets both (`update/included/update-included-basic.test.ts`)."""
    ok(js, "balances.create nextResetAt")
    ok(js, "balances.create same balanceId, another customer")
    assert ok(js, "balances.update includedGrant with remaining") == {"success": True}
    (promo,) = ok(js, "customers.get user_3")["balances"]["loose_msg"]["breakdown"]
    assert promo["id"] == "promo"
    assert promo["reset"]["resetsAt"] == ok(js, "firstResetAt")
    assert (promo["includedGrant"], promo["remaining"], promo["usage"]) == (75, 50, 25)
    (other,) = ok(js, "customers.get user_4")["balances"]["loose_msg"]["breakdown"]
    assert (other["id"], other["remaining"]) == ("promo", 20)
    for step, status, code in [
        ("error balances.create same balanceId, same customer", 409, "duplicate_balance_id"),
        ("error balances.create rollover without reset", 400, "invalid_inputs"),
    ]:
        error = failed(js, step)
        assert (error["statusCode"], error["json"]["code"]) == (status, code), step

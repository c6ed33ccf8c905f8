"""Schemathesis against the app's own `/openapi.json`, in process (ASGI), on both databases.

For every operation of the document, Hypothesis generates positive (schema-valid) and negative
(schema-invalid) requests, sent with a valid secret key. Half of them have their ids replaced
by a seeded customer, feature, plan and entity, so that not everything is a 404. Every response
goes through schemathesis's checks: never a 5xx, a documented status, a documented content
type, a body that matches the documented response schema, and so on. After the run, the
ledger must still verify.

Two checks are disabled. `negative_data_rejection` (a schema-invalid request must get a 4xx):
the request models are lax where the official clients need it (pydantic turns `true` into 1 and
"10" into 10; a path parameter wins over the same key in the body), so some schema-invalid
bodies are rightly accepted; every bad *meaning* still gets a 4xx (see test_bad_inputs.py), and
no request may ever get a 5xx. `positive_data_acceptance` (a schema-valid request must get a
2xx/404/409):
`/openapi.json` describes the *shape* of each body (the pydantic request models, documented as
such in `allotment.api.requests`: "The services validate meaning (precision, ids, ...); these
validate shape"): every id is optional in the schema because `id` is an alias of `customer_id`
or `plan_id`, ids have no length bound, amounts are any number or string, intervals any string.
The services then refuse what makes no sense with 400 `invalid_inputs`, which is the documented
behaviour (docs/engine.md), so "valid per schema" routinely and rightly gets a 400.

Budget: `EXAMPLES` cases per operation and generation mode (65 operations, two modes); the
long run (ALLOTMENT_LONG=1) generates many more. `ALLOTMENT_RELIABILITY_SEED` replays a run.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio.from_thread
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from allotment.api.app import create_app
from allotment.api.openapi import openapi_document
from allotment.services import keys
from allotment.session import Engine
from allotment.storage.database import Database
from allotment.storage.key_store import KeyStore
from tests.api.conftest import Api, PortalTransport, migrated_database
from tests.conftest import LONG, FakeClock

pytestmark = pytest.mark.reliability

# per operation and generation mode (47 of the 65 operations take a body, so both modes)
EXAMPLES = 120 if LONG else 5

OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in openapi_document()["paths"].items()
    for method in item
]

# ids that exist (re-seeded before each operation), swapped into half of the cases
SEEDED = {
    "customer_id": "cus_fuzz",
    "feature_id": "fuzz_messages",
    "metered_feature_id": "fuzz_messages",
    "plan_id": "fuzz_basic",
    "product_id": "fuzz_basic",
    "entity_id": "ent_fuzz",
}


def _seed() -> int:
    raw = os.environ.get("ALLOTMENT_RELIABILITY_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


SEED = _seed()


@dataclass
class Fuzz:
    kind: str
    database: Database
    api: Api
    key: str
    schema: Any
    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    seeded_events: int = 0


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzz]:
    database = migrated_database(request, tmp_path_factory, "fuzz")
    clock = FakeClock()
    with database.transaction(write=True) as connection:
        key = keys.create(
            KeyStore(connection), clock.now, org="acme", env="sandbox", publishable=False
        )
    app = create_app(Engine.over(database, clock=clock))
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Bearer {key}"},
            # fuzz the bodies and paths with a valid key (auth has its own tests)
            "generation": {"with-security-parameters": False},
            # see the module docstring: the schema is the wire shape, the services check meaning
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                "negative_data_rejection": {"enabled": False},
            },
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    with anyio.from_thread.start_blocking_portal() as portal:
        http = httpx.Client(
            transport=PortalTransport(app, portal),
            base_url="http://test",
            headers={"Authorization": f"Bearer {key}"},
        )
        yield Fuzz(request.param, database, Api(http), key, schema)
    database.dispose()


def _reseed(fuzz: Fuzz) -> None:
    """The seeded catalog and customer, again (an earlier operation may have deleted them)."""
    requests: list[tuple[str, dict[str, Any]]] = [
        (
            "features.create",
            {
                "feature_id": "fuzz_messages",
                "name": "Messages",
                "type": "metered",
                "consumable": True,
            },
        ),
        (
            "plans.create",
            {
                "plan_id": "fuzz_basic",
                "name": "Basic",
                "items": [
                    {"feature_id": "fuzz_messages", "included": 100, "reset": {"interval": "month"}}
                ],
            },
        ),
        ("customers.get_or_create", {"customer_id": "cus_fuzz", "name": "Fuzz"}),
        ("billing.attach", {"customer_id": "cus_fuzz", "plan_id": "fuzz_basic"}),
        ("entities.create", {"customer_id": "cus_fuzz", "entity_id": "ent_fuzz"}),
    ]
    fuzz.seeded_events += 1
    requests.append(
        (
            "balances.track",
            {
                "customer_id": "cus_fuzz",
                "feature_id": "fuzz_messages",
                "value": 1,
                "idempotency_key": f"fuzz-seed-{fuzz.seeded_events}",
            },
        )
    )
    for name, body in requests:
        fuzz.api.post(f"/v1/{name}", body)  # any 4xx is fine (already there); a 5xx fails


def _swap_in_seeded_ids(case: Any) -> None:
    if isinstance(case.body, dict):
        for name, value in SEEDED.items():
            if isinstance(case.body.get(name), str):
                case.body[name] = value
    for name in list(case.path_parameters or {}):
        if name in SEEDED:
            case.path_parameters[name] = SEEDED[name]


def _detail(failure: Any) -> str:
    """The gist of a failed check: its first lines, and where in the body for a schema error."""
    title = getattr(failure, "title", "")
    lines = [
        line.strip()
        for line in str(getattr(failure, "message", failure)).splitlines()
        if line.strip() and line.strip() != title
    ]
    where = getattr(failure, "instance_path", None)
    if where is not None:
        lines.insert(0, "at /" + "/".join(str(part) for part in where))
    return " | ".join(lines[:3])[:400]


def _describe(case: Any, response: Any) -> str:
    """The request and the answer, shortened: a long body keeps its snake_case keys (the
    declared fields) and leaves out the generated extra ones."""
    body = case.body if isinstance(case.body, (dict, list, str, int, float)) else None
    sent = json.dumps(body, ensure_ascii=True, default=str)
    if len(sent) > 600 and isinstance(body, dict):
        kept = {k: v for k, v in body.items() if re.fullmatch(r"[a-z_]+", str(k))}
        sent = json.dumps(kept, ensure_ascii=True, default=str)
        sent += f" (and {len(body) - len(kept)} generated keys left out)"
    if len(sent) > 1500:
        sent = f"{sent[:1500]}... ({len(sent)} characters)"
    answer = f"{response.status_code} {response.text[:400]}"
    return f"{case.method} {case.formatted_path} {sent}\n      -> {answer}"


def _fuzz_one_mode(
    fuzz: Fuzz,
    operation: Any,
    mode: GenerationMode,
    failures: dict[tuple[str, str], str],
    counts: Counter[str],
) -> None:
    """`EXAMPLES` cases of one generation mode; failed checks are collected, not raised."""
    headers = {"Authorization": f"Bearer {fuzz.key}"}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # failures are collected below: nothing to shrink
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), seeded=st.booleans())
    def run(case: Any, seeded: bool) -> None:
        if seeded:
            _swap_in_seeded_ids(case)
        response = case.call(headers=headers)
        counts[mode.value] += 1
        fuzz.statuses[response.status_code] += 1
        try:
            case.validate_response(response, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                title = getattr(failure, "title", type(failure).__name__)
                detail = _detail(failure)
                failures.setdefault(
                    (mode.value, f"{title} ({response.status_code})"),
                    f"{detail}\n      {_describe(case, response)}",
                )

    run()


@pytest.mark.parametrize("label", OPERATIONS)
def test_generated_requests_never_get_a_5xx_and_answer_per_the_schema(
    fuzz: Fuzz, label: str
) -> None:
    operation = fuzz.schema.find_operation_by_label(label)
    assert operation is not None, label
    _reseed(fuzz)
    failures: dict[tuple[str, str], str] = {}
    counts: Counter[str] = Counter()
    # without a body there is nothing schema-invalid to send: the only parameters are string
    # path parameters (any text is a string) and the key (not generated, see the fixture)
    modes = [GenerationMode.POSITIVE]
    if len(operation.body) > 0:
        modes.append(GenerationMode.NEGATIVE)
    for mode in modes:
        _fuzz_one_mode(fuzz, operation, mode, failures, counts)
    fuzz.cases[label] = sum(counts.values())
    print(f"[fuzz {fuzz.kind}] {label}: {dict(counts)} cases (seed {SEED})")
    assert not failures, f"{label} (replay with ALLOTMENT_RELIABILITY_SEED={SEED}):\n" + "\n".join(
        f"  [{mode}] {title}: {example}" for (mode, title), example in sorted(failures.items())
    )


def test_the_ledger_still_verifies_after_fuzzing(
    fuzz: Fuzz, capsys: pytest.CaptureFixture[str]
) -> None:
    report = Engine.over(fuzz.database).verify_ledger()
    total = sum(fuzz.cases.values())
    with capsys.disabled():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(fuzz.statuses.items()))
        print(
            f"\n[fuzz {fuzz.kind}] {total} cases over {len(fuzz.cases)} operations "
            f"(seed {SEED}; statuses {statuses}); ledger: {report.summary()}"
        )
    assert report.ok, report.summary()

"""`/openapi.json` (valid OpenAPI 3.1, every RPC path) and `/health`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from allotment.api.routes import LEGACY, RPC
from tests.api.conftest import Server, ok

RPC_PATHS = [
    "balances.check",
    "balances.track",
    "balances.finalize",
    "customers.get_or_create",
    "customers.get",
    "customers.list",
    "customers.update",
    "customers.delete",
    "entities.create",
    "entities.get",
    "entities.list",
    "entities.update",
    "entities.delete",
    "features.create",
    "features.get",
    "features.list",
    "features.update",
    "features.delete",
    "plans.create",
    "plans.get",
    "plans.list",
    "plans.update",
    "plans.delete",
    "billing.attach",
    "events.list",
    "events.aggregate",
]


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    r = server.client(None).get("/openapi.json")
    body: dict[str, Any] = ok(r)
    return body


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for value in node.values():
            found += _refs(value)
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_openapi_is_3_1_and_lists_every_rpc_path(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    assert {"title", "version"} <= set(document["info"])
    for name in RPC_PATHS:
        operation = document["paths"][f"/v1/{name}"]["post"]
        assert operation["operationId"]
        assert "200" in operation["responses"]
        assert "requestBody" in operation
    assert {f"/v1/{e.name}" for e in RPC} <= set(document["paths"])
    for method, path, _ in LEGACY:
        assert method.lower() in document["paths"][path]


def test_openapi_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_openapi_refs_resolve(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_openapi_declares_every_path_parameter(document: dict[str, Any]) -> None:
    """OpenAPI requires each `{name}` of a path template to be declared `in: path`."""
    missing = []
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {
                p["name"]
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p.get("in") == "path" and p.get("required") is True
            }
            if names - declared:
                missing.append(f"{method.upper()} {path}: {sorted(names - declared)}")
    assert not missing, missing


def test_openapi_passes_a_validator(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


def test_openapi_schemas_describe_the_wire(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    check = document["paths"]["/v1/balances.check"]["post"]
    ref = check["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    response = schemas[ref.rsplit("/", 1)[1]]
    assert document["components"]["securitySchemes"]
    assert {"allowed", "customer_id", "balance", "flag"} <= set(response.get("properties", {})), (
        f"{ref} is {response}"
    )
    empty = sorted(name for name, schema in schemas.items() if not schema)
    assert not empty, f"component schemas with no content: {empty}"


def test_health(server: Server) -> None:
    assert ok(server.client(None).get("/health")) == {"status": "ok"}

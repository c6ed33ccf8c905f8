"""`/openapi.json`, generated from the endpoint table and its pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from allotment.api.routes import BY_NAME, LEGACY, RPC, Endpoint

_ERROR = {
    "type": "object",
    "required": ["message", "code"],
    "properties": {
        "message": {"type": "string"},
        "code": {"type": "string"},
        "env": {"type": ["string", "null"]},
    },
}


def _models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for endpoint in BY_NAME.values():
        for model in (endpoint.request, endpoint.response):
            if isinstance(model, type) and issubclass(model, BaseModel):
                found[model.__name__] = model
    return list(found.values())


def _operation(endpoint: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    response = endpoint.response
    if isinstance(response, type) and issubclass(response, BaseModel):
        answer = refs[(response, "serialization")]
    else:
        answer = {"type": "object"}
    errors = {
        status: {"description": "error", "content": {"application/json": {"schema": _ERROR}}}
        for status in ("400", "401", "404", "409")
    }
    return {
        "operationId": endpoint.name,
        "security": [{"bearer": []}],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": refs[(endpoint.request, "validation")]}},
        },
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": answer}}},
            **errors,
        },
    }


def openapi_document() -> dict[str, Any]:
    models = _models()
    keys: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in models]
    keys += [(m, "serialization") for m in models]
    refs, schema = models_json_schema(keys, ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    for endpoint in RPC:
        paths[f"/v1/{endpoint.name}"] = {"post": _operation(endpoint, refs)}
    for method, path, name in LEGACY:
        operation = _operation(BY_NAME[name], refs)
        operation["operationId"] = f"{method.lower()} {path}"
        parameters = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in path.split("/")
            if part.startswith("{")
        ]
        if parameters:
            operation["parameters"] = parameters
        if method in ("GET", "DELETE"):
            operation.pop("requestBody")
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "allotment (Autumn-compatible API)", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }

"""`/openapi.json`, generated from the endpoint table and its pydantic models."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

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


class _ExactNumbers(GenerateJsonSchema):
    """Amounts are `Decimal`s written as JSON numbers (wire.codec), not pydantic's strings."""

    def decimal_schema(self, schema: core_schema.DecimalSchema) -> JsonSchemaValue:
        if self.mode == "serialization":
            return {"type": "number"}
        return super().decimal_schema(schema)

    def encode_default(self, dft: Any) -> Any:
        if isinstance(dft, Decimal):
            return int(dft) if dft == dft.to_integral_value() else float(dft)
        return super().encode_default(dft)


def _name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _omitted_keys_are_optional(
    models: list[type[BaseModel]], refs: dict[Any, Any], schemas: dict[str, Any]
) -> None:
    """Keys a result leaves out when None (`omit_when_none`) are not required."""
    for model in models:
        omitted: frozenset[str] = getattr(model, "omit_when_none", frozenset())
        schema = schemas.get(_name(refs[(model, "serialization")]))
        if omitted and schema is not None and "required" in schema:
            schema["required"] = [k for k in schema["required"] if k not in omitted]


def _body_without(schema_ref: dict[str, Any], names: list[str], schemas: dict[str, Any]) -> Any:
    """The request body of a path with parameters: those come from the path (which wins over
    the body), so the body does not describe them."""
    schema = copy.deepcopy(schemas[_name(schema_ref)])
    if "required" in schema:
        schema["required"] = [k for k in schema["required"] if k not in names]
    for name in names:
        schema.get("properties", {}).pop(name, None)
    return schema


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
            str(endpoint.status): {
                "description": "OK" if endpoint.status == 200 else "Accepted",
                "content": {"application/json": {"schema": answer}},
            },
            **errors,
        },
    }


def openapi_document() -> dict[str, Any]:
    models = _models()
    keys: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in models]
    keys += [(m, "serialization") for m in models]
    refs, schema = models_json_schema(
        keys, ref_template="#/components/schemas/{model}", schema_generator=_ExactNumbers
    )
    schemas: dict[str, Any] = schema.get("$defs", {})
    _omitted_keys_are_optional(models, refs, schemas)
    paths: dict[str, Any] = {}
    for endpoint in RPC:
        paths[f"/v1/{endpoint.name}"] = {"post": _operation(endpoint, refs)}
    for method, path, name in LEGACY:
        operation = _operation(BY_NAME[name], refs)
        operation["operationId"] = f"{method.lower()} {path}"
        parameters: list[dict[str, Any]] = [
            {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
            for part in path.split("/")
            if part.startswith("{")
        ]
        if parameters:
            operation["parameters"] = parameters
            body = operation["requestBody"]["content"]["application/json"]
            body["schema"] = _body_without(body["schema"], [p["name"] for p in parameters], schemas)
        if method in ("GET", "DELETE"):
            operation.pop("requestBody")
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "allotment (Autumn-compatible API)", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }

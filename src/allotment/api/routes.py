"""The endpoint table: every path the server answers, its body model, its handler, and
whether a publishable key may call it. `/openapi.json` is generated from this table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, create_model

from allotment import wire as schemas
from allotment.api.handlers import billing, catalog, customers, events, loose_grants, usage
from allotment.wire import requests as rq

Handler = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    request: type[BaseModel]
    handler: Handler
    response: Any
    read_only: bool = False  # a publishable key may call it
    status: int = 200  # the status of a success
    array_body: bool = False  # the body is a JSON array (balances.batch_track)


def _list_of(model: type[BaseModel]) -> type[BaseModel]:
    fields: Any = {"list": (list[model], ...), "next_cursor": (str | None, None)}  # type: ignore[valid-type]
    return create_model(f"{model.__name__}List", **fields)


RPC: list[Endpoint] = [
    Endpoint("balances.check", rq.CheckRequest, usage.check, schemas.CheckResponse, True),
    Endpoint("balances.track", rq.TrackRequest, usage.track, schemas.TrackResponse),
    Endpoint(
        "balances.batch_track",
        rq.BatchTrackRequest,
        usage.batch_track,
        schemas.BatchTrackResponse,
        status=202,  # autumn-js accepts only 202 here
        array_body=True,
    ),
    Endpoint("balances.finalize", rq.FinalizeRequest, usage.finalize, schemas.Success),
    Endpoint(
        "balances.create", rq.BalanceCreateRequest, loose_grants.create_balance, schemas.Success
    ),
    Endpoint(
        "balances.update", rq.BalanceUpdateRequest, loose_grants.update_balance, schemas.Success
    ),
    Endpoint(
        "balances.delete", rq.BalanceDeleteRequest, loose_grants.delete_balance, schemas.Success
    ),
    Endpoint(
        "customers.get_or_create", rq.CustomerRequest, customers.get_or_create, schemas.Customer
    ),
    Endpoint("customers.get", rq.CustomerIdRequest, customers.get, schemas.Customer, True),
    Endpoint(
        "customers.list", rq.ListRequest, customers.list_customers, _list_of(schemas.Customer), True
    ),
    Endpoint("customers.update", rq.CustomerRequest, customers.update, schemas.Customer),
    Endpoint("customers.delete", rq.CustomerIdRequest, customers.delete, schemas.Success),
    Endpoint(
        "customers.advance_test_clock",
        rq.TestClockRequest,
        customers.advance_test_clock,
        schemas.TestClock,
    ),
    Endpoint("entities.create", rq.EntityRequest, customers.create_entity, schemas.Entity),
    Endpoint("entities.get", rq.EntityRequest, customers.get_entity, schemas.Entity, True),
    Endpoint(
        "entities.list", rq.ListRequest, customers.list_entities, _list_of(schemas.Entity), True
    ),
    Endpoint("entities.update", rq.EntityRequest, customers.update_entity, schemas.Entity),
    Endpoint("entities.delete", rq.EntityRequest, customers.delete_entity, schemas.Success),
    Endpoint("features.create", rq.FeatureRequest, catalog.create_feature, schemas.Feature),
    Endpoint("features.get", rq.FeatureIdRequest, catalog.get_feature, schemas.Feature, True),
    Endpoint(
        "features.list", rq.FeatureRequest, catalog.list_features, _list_of(schemas.Feature), True
    ),
    Endpoint("features.update", rq.FeatureRequest, catalog.update_feature, schemas.Feature),
    Endpoint("features.delete", rq.FeatureIdRequest, catalog.delete_feature, schemas.Success),
    Endpoint("plans.create", rq.PlanRequest, catalog.create_plan, schemas.Plan),
    Endpoint("plans.get", rq.PlanRequest, catalog.get_plan, schemas.Plan, True),
    Endpoint("plans.list", rq.PlanRequest, catalog.list_plans, _list_of(schemas.Plan), True),
    Endpoint("plans.update", rq.PlanRequest, catalog.update_plan, schemas.Plan),
    Endpoint("plans.delete", rq.PlanRequest, catalog.delete_plan, schemas.Success),
    Endpoint("billing.attach", rq.AttachRequest, billing.attach, schemas.AttachResponse),
    Endpoint("events.list", rq.EventsListRequest, events.list_events, schemas.EventsPage, True),
    Endpoint("events.aggregate", rq.EventsAggregateRequest, events.aggregate_events, dict, True),
    Endpoint("events.reverse", rq.EventReverseRequest, events.reverse_event, schemas.Reversal),
]

BY_NAME = {endpoint.name: endpoint for endpoint in RPC}

# Legacy REST paths: (method, path template, endpoint name). Path parameters and, for GET,
# query parameters are merged into the body.
LEGACY: list[tuple[str, str, str]] = [
    ("POST", "/v1/check", "balances.check"),
    ("POST", "/v1/entitled", "balances.check"),
    ("POST", "/v1/track", "balances.track"),
    ("POST", "/v1/events", "balances.track"),
    ("POST", "/v1/events/list", "events.list"),
    ("POST", "/v1/events/aggregate", "events.aggregate"),
    ("POST", "/v1/customers", "customers.get_or_create"),
    ("GET", "/v1/customers", "customers.list"),
    ("GET", "/v1/customers/{customer_id}", "customers.get"),
    ("POST", "/v1/customers/{customer_id}", "customers.update"),
    ("DELETE", "/v1/customers/{customer_id}", "customers.delete"),
    ("POST", "/v1/customers/{customer_id}/entities", "entities.create"),
    ("GET", "/v1/customers/{customer_id}/entities", "entities.list"),
    ("GET", "/v1/customers/{customer_id}/entities/{entity_id}", "entities.get"),
    ("POST", "/v1/customers/{customer_id}/entities/{entity_id}", "entities.update"),
    ("DELETE", "/v1/customers/{customer_id}/entities/{entity_id}", "entities.delete"),
    ("GET", "/v1/features", "features.list"),
    ("POST", "/v1/features", "features.create"),
    ("GET", "/v1/features/{feature_id}", "features.get"),
    ("POST", "/v1/features/{feature_id}", "features.update"),
    ("DELETE", "/v1/features/{feature_id}", "features.delete"),
    ("GET", "/v1/products", "plans.list"),
    ("POST", "/v1/products", "plans.create"),
    ("GET", "/v1/products/{plan_id}", "plans.get"),
    ("POST", "/v1/products/{plan_id}", "plans.update"),
    ("DELETE", "/v1/products/{plan_id}", "plans.delete"),
    ("GET", "/v1/plans", "plans.list"),
    ("POST", "/v1/plans", "plans.create"),
    ("GET", "/v1/plans/{plan_id}", "plans.get"),
    ("POST", "/v1/plans/{plan_id}", "plans.update"),
    ("DELETE", "/v1/plans/{plan_id}", "plans.delete"),
    ("POST", "/v1/attach", "billing.attach"),
    ("POST", "/v1/usage", "balances.usage"),
    ("POST", "/v1/balances/create", "balances.create"),
]

USAGE = Endpoint("balances.usage", rq.UsageRequest, usage.usage, dict)
BY_NAME[USAGE.name] = USAGE

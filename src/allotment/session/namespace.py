"""The base of a tenant session's namespaces, and the scope they run in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from allotment.runner import Runner
from allotment.storage.store import Store

T = TypeVar("T")


def keywords(names: Mapping[str, Any]) -> dict[str, Any]:
    """A session method's keywords (its `locals()`, taken first thing) as the fields of its
    request model: `self` left out, a trailing underscore dropped (`type_`, `async_`)."""
    return {name.removesuffix("_"): value for name, value in names.items() if name != "self"}


@dataclass(frozen=True)
class Scope:
    """Who calls: the runner (the only owner of transactions), the tenant (org and
    environment), who makes manual changes (`actor`, kept on their ledger entries), and whether
    check and track create a customer they do not know (API versions before 2.1)."""

    runner: Runner
    org: str
    env: str
    actor: str = "embedded"
    creates_missing_customers: bool = False

    def read(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self.runner.run(self.org, self.env, operation, write=False)

    def write(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self.runner.run(self.org, self.env, operation, write=True)


class Namespace:
    """Each method is one use case in one transaction of the session's scope."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def _read(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._scope.read(operation)

    def _write(self, operation: Callable[[Store, datetime, bool], T]) -> T:
        return self._scope.write(operation)

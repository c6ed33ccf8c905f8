"""What a handler knows about the request it serves: who called (org, env, key kind), which
API version shapes the answer, and how to run a use case in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from allotment.runner import Operation, Runner

T = TypeVar("T")


def is_legacy_version(header: str | None) -> bool:
    """1.x (and 0.x) clients get Autumn's 1.2 shapes; anything else gets the current ones."""
    if not header:
        return False
    head = header.strip().lstrip("vV").split(".")[0]
    return head.isascii() and head.isdigit() and int(head) < 2


@dataclass(frozen=True)
class RequestContext:
    runner: Runner
    org: str
    env: str
    publishable: bool
    legacy: bool
    idempotency_key: str | None = None
    actor: str = "api"  # who makes manual changes: the API key's prefix

    def read(self, operation: Operation[T]) -> T:
        return self.runner.run(self.org, self.env, operation, write=False)

    def write(self, operation: Operation[T]) -> T:
        return self.runner.run(self.org, self.env, operation, write=True)

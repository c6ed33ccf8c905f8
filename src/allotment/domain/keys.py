"""Who an API key speaks for: its org and environment, its kind (`secret` or `publishable`),
and the prefix that names it in the ledger (never the key itself)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ApiKey"]


@dataclass(frozen=True)
class ApiKey:
    org: str
    env: str
    kind: str
    prefix: str

"""What a handler knows about the request it serves: who called (org, env, key kind), which
API version shapes the answer, and how to run a use case in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from allotment.session import Engine, Tenant


def _major_minor(header: str | None) -> tuple[int, int] | None:
    """`x-api-version` as (major, minor); None when absent or unreadable (the newest)."""
    parts = (header or "").strip().lstrip("vV").split(".")

    def number(text: str) -> int | None:
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None

    major = number(parts[0])
    if major is None:
        return None
    minor = number(parts[1]) if len(parts) > 1 else 0
    return major, minor or 0


def is_legacy_version(header: str | None) -> bool:
    """1.x (and 0.x) clients get Autumn's 1.2 shapes; anything else gets the current ones."""
    version = _major_minor(header)
    return version is not None and version[0] < 2


def creates_missing_customers(header: str | None) -> bool:
    """Before API 2.1, check and track create an unknown customer (from `customer_data`);
    from 2.1 on they answer 404 `customer_not_found` (Autumn)."""
    version = _major_minor(header)
    return version is not None and version < (2, 1)


@dataclass(frozen=True)
class RequestContext:
    """The tenant session of the calling key, and what only HTTP knows: the key's kind, the
    API version's shapes, the `Idempotency-Key` header."""

    tenant: Tenant
    publishable: bool
    legacy: bool
    idempotency_key: str | None = None


class Sessions:
    """One tenant session per (org, env, key, version rule), made once per process: a session
    holds no state of its own, only its scope."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._made: dict[tuple[str, str, str, bool], Tenant] = {}

    def tenant(self, org: str, env: str, key_prefix: str, creates: bool) -> Tenant:
        made = self._made.get((org, env, key_prefix, creates))
        if made is None:
            made = self._engine.tenant(
                org, env, actor=f"api_key:{key_prefix}", creates_missing_customers=creates
            )
            self._made[(org, env, key_prefix, creates)] = made
        return made

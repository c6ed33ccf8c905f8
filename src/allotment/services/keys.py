"""Use cases: API keys. Keys look like Autumn's (`am_sk_test_…`, `am_sk_live_…`, `am_pk_…`);
only their SHA-256 is stored, and the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from allotment.domain.errors import invalid

__all__ = ["create", "find", "first_key", "invalid", "key_hash"]
from allotment.domain.keys import ApiKey
from allotment.storage.key_store import KeyStore

_PREFIXES = {
    ("secret", "sandbox"): "am_sk_test_",
    ("secret", "live"): "am_sk_live_",
    ("publishable", "sandbox"): "am_pk_test_",
    ("publishable", "live"): "am_pk_live_",
}


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(keys: KeyStore, now: datetime, *, org: str, env: str, publishable: bool) -> str:
    if env not in ("sandbox", "live"):
        raise invalid("env must be sandbox or live")
    if not org or len(org) > 64:
        raise invalid("org must be a non-empty string of at most 64 characters")
    kind = "publishable" if publishable else "secret"
    key = _PREFIXES[(kind, env)] + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")
    keys.insert(org, env, kind, key_hash(key), key[:16], now)
    return key


def first_key(keys: KeyStore, now: datetime) -> str | None:
    """A sandbox secret key of org `default` when there is no key at all, else None."""
    if keys.any_key():
        return None
    return create(keys, now, org="default", env="sandbox", publishable=False)


def find(keys: KeyStore, key: str) -> ApiKey | None:
    return keys.find(key_hash(key))

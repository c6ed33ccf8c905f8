"""Bearer keys -> (org, env, kind). Lookups are cached in-process by the key's hash."""

from __future__ import annotations

from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.domain.keys import ApiKey
from allotment.session import Engine

_KEY_PREFIXES = ("am_sk_", "am_pk_")


class Authenticator:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cache: dict[str, ApiKey] = {}

    def cached(self, authorization: str | None) -> ApiKey | None:
        """The key's record if this process has already seen it (no database, no thread)."""
        if not authorization:
            return None
        scheme, _, key = authorization.strip().partition(" ")
        return self._cache.get(key.strip()) if scheme.lower() == "bearer" else None

    def authenticate(self, authorization: str | None) -> ApiKey:
        if not authorization or not authorization.strip():
            raise AllotmentError(ErrorCode.NO_SECRET_KEY, "Authorization: Bearer <key> is required")
        scheme, _, key = authorization.strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise AllotmentError(ErrorCode.NO_SECRET_KEY, "Authorization: Bearer <key> is required")
        if not key.startswith(_KEY_PREFIXES):
            raise AllotmentError(
                ErrorCode.INVALID_API_KEY, "the key is not an allotment or Autumn key"
            )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        found = self._engine.find_key(key)
        if found is None:
            raise AllotmentError(ErrorCode.INVALID_SECRET_KEY, "the key is not valid")
        self._cache[key] = found
        return found

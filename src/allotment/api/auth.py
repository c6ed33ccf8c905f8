"""Bearer keys -> (org, env, kind). Lookups are cached in-process by the key's hash."""

from __future__ import annotations

from allotment.domain.errors import AllotmentError, ErrorCode
from allotment.services import keys as key_service
from allotment.storage.database import Database
from allotment.storage.key_store import KeyStore
from allotment.storage.records import ApiKeyRecord

_KEY_PREFIXES = ("am_sk_", "am_pk_")


class Authenticator:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._cache: dict[str, ApiKeyRecord] = {}

    def cached(self, authorization: str | None) -> ApiKeyRecord | None:
        """The key's record if this process has already seen it (no database, no thread)."""
        if not authorization:
            return None
        scheme, _, key = authorization.strip().partition(" ")
        return self._cache.get(key.strip()) if scheme.lower() == "bearer" else None

    def authenticate(self, authorization: str | None) -> ApiKeyRecord:
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
        with self._database.transaction(write=False) as connection:
            found = key_service.find(KeyStore(connection), key)
        if found is None:
            raise AllotmentError(ErrorCode.INVALID_SECRET_KEY, "the key is not valid")
        self._cache[key] = found
        return found

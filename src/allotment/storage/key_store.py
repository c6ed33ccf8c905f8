"""SQL for API keys. Only a SHA-256 hash of each key is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from allotment.domain.clock import to_ms
from allotment.domain.keys import ApiKey
from allotment.storage.tables import api_keys


class KeyStore:
    """Keys are looked up before the tenant is known, so this store is not tenant-scoped."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def insert(
        self, org: str, env: str, kind: str, key_hash: str, prefix: str, now: datetime
    ) -> None:
        self._connection.execute(
            insert(api_keys).values(
                org=org,
                env=env,
                kind=kind,
                key_hash=key_hash,
                prefix=prefix,
                revoked=False,
                created_at=to_ms(now),
            )
        )

    def find(self, key_hash: str) -> ApiKey | None:
        row = (
            self._connection.execute(
                select(api_keys).where(api_keys.c.key_hash == key_hash, ~api_keys.c.revoked)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return ApiKey(row["org"], row["env"], row["kind"], row["prefix"])

    def any_key(self) -> bool:
        return self._connection.execute(select(api_keys.c.id).limit(1)).first() is not None

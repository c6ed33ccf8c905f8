"""Request limits: the largest body the server reads, and a per-key rate limit.

Both come from the environment (set by `allotment serve --max-body-bytes / --rate-limit`):
- `ALLOTMENT_MAX_BODY_BYTES` (default 1 MiB): a larger body is refused with 413
  `payload_too_large` before it is read whole.
- `ALLOTMENT_RATE_LIMIT` (requests per second per API key, default 0 = no limit), with a burst
  of `ALLOTMENT_RATE_BURST` (default: one second's worth). A key over its limit gets 429
  `rate_limit_exceeded` with `Retry-After` (whole seconds). With `--workers N` each worker
  enforces 1/N of the limit (`ALLOTMENT_WORKERS`), so the server as a whole keeps to it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Limits", "RateLimiter"]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rate_per_second: float = 0.0  # per key, for this process; 0: no limit
    burst: float = 0.0  # bucket size; 0: one second's worth

    @staticmethod
    def from_environment() -> Limits:
        workers = max(int(os.environ.get("ALLOTMENT_WORKERS") or 1), 1)
        rate = float(os.environ.get("ALLOTMENT_RATE_LIMIT") or 0)
        burst = float(os.environ.get("ALLOTMENT_RATE_BURST") or 0)
        return Limits(
            max_body_bytes=int(
                os.environ.get("ALLOTMENT_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES
            ),
            rate_per_second=rate / workers,
            burst=burst / workers,
        )


@dataclass
class RateLimiter:
    """A token bucket per key. Used from the event loop only (no locking needed)."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.burst <= 0:
            self.burst = max(self.rate, 1.0)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def retry_after(self, key: str) -> int | None:
        """Take one token for `key`: None when allowed, else the seconds to wait."""
        if not self.enabled:
            return None
        now = self.clock()
        tokens, seen = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - seen) * self.rate)
        if tokens >= 1:
            if len(self._buckets) >= _MAX_TRACKED_KEYS and key not in self._buckets:
                self._buckets.clear()  # bounded memory: forgetting buckets only forgives
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.rate))

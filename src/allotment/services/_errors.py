"""Signals between services and the callers that own transactions."""

from __future__ import annotations


class NeedsWrite(Exception):
    """Raised inside a read-only transaction when a lazy reset is due: the caller reruns the
    operation in a write transaction, which applies the reset first."""

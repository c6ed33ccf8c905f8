"""The one error type of allotment, with Autumn's stable codes."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AllotmentError", "ErrorCode", "OverdrawRefused"]


class ErrorCode(StrEnum):
    """Every stable error code, the HTTP-only ones included. Where Autumn has a code for the
    case, it is Autumn's. `api/errors.py` maps each to its HTTP status."""

    INVALID_INPUTS = "invalid_inputs"
    INVALID_REQUEST = "invalid_request"
    FEATURE_NOT_FOUND = "feature_not_found"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    PLAN_NOT_FOUND = "plan_not_found"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    DUPLICATE_IDEMPOTENCY_KEY = "duplicate_idempotency_key"
    FEATURE_ALREADY_EXISTS = "feature_already_exists"
    PLAN_ALREADY_EXISTS = "plan_already_exists"
    PLAN_ALREADY_ATTACHED = "product_already_attached"
    FEATURE_IN_USE = "feature_in_use"
    LOCK_ALREADY_EXISTS = "lock_already_exists"
    LOCK_NOT_FOUND = "lock_not_found"
    LOCK_ALREADY_FINALIZED = "lock_already_finalized"
    ENTITY_NOT_FOUND = "entity_not_found"
    BALANCE_NOT_FOUND = "balance_not_found"
    DUPLICATE_BALANCE_ID = "duplicate_balance_id"
    ENTITY_ALREADY_EXISTS = "entity_already_exists"
    EVENT_NOT_FOUND = "event_not_found"
    EVENT_ALREADY_REVERSED = "event_already_reversed"
    # answered by the HTTP server only
    NO_SECRET_KEY = "no_secret_key"
    INVALID_SECRET_KEY = "invalid_secret_key"
    INVALID_API_KEY = "invalid_api_key"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


class AllotmentError(Exception):
    """A business or input error. `code` is stable; `message` names the offending field."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"AllotmentError({str(self.code)!r}, {self.message!r})"


def invalid(message: str) -> AllotmentError:
    return AllotmentError(ErrorCode.INVALID_INPUTS, message)


class OverdrawRefused(AllotmentError):
    """The store refused a balance change that would take a grant below its floor (see
    `GrantStore.add_to_balances`): nothing of it was written, and the transaction rolls back.
    The engine plans every change within the floors, or names the grants it means to take past
    them, so this is a balance that moved under the plan (the runner replans) or a bug. A client
    sees `insufficient_balance`, nothing applied, as with `reject`."""

    def __init__(self, grant_ids: list[int]) -> None:
        """`grant_ids`: the grant refused, or the guarded grants of the call, one of which was
        (the store counts the rows a batch changed, not which)."""
        names = ", ".join(str(g) for g in grant_ids)
        which = f"grant {names}" if len(grant_ids) == 1 else f"one of grants {names}"
        super().__init__(
            ErrorCode.INSUFFICIENT_BALANCE,
            f"refused: the change would take {which} below its floor; nothing was applied",
        )
        self.grant_ids = grant_ids

"""The one error type of allotment, with Autumn's stable codes."""

from __future__ import annotations

__all__ = ["AllotmentError", "ErrorCode"]


class ErrorCode:
    """Stable error codes. Where Autumn has a code for the case, it is Autumn's."""

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


class AllotmentError(Exception):
    """A business or input error. `code` is stable; `message` names the offending field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"AllotmentError({self.code!r}, {self.message!r})"


def invalid(message: str) -> AllotmentError:
    return AllotmentError(ErrorCode.INVALID_INPUTS, message)

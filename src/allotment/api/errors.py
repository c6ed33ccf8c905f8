"""The one place where error codes become HTTP statuses."""

from __future__ import annotations

from allotment.domain.errors import ErrorCode

__all__ = ["status_of"]

_STATUS = {
    ErrorCode.INVALID_INPUTS: 400,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INSUFFICIENT_BALANCE: 400,
    ErrorCode.FEATURE_IN_USE: 400,
    ErrorCode.PLAN_ALREADY_ATTACHED: 400,
    ErrorCode.FEATURE_NOT_FOUND: 404,
    ErrorCode.CUSTOMER_NOT_FOUND: 404,
    ErrorCode.PLAN_NOT_FOUND: 404,
    ErrorCode.ENTITY_NOT_FOUND: 404,
    ErrorCode.LOCK_NOT_FOUND: 404,
    ErrorCode.BALANCE_NOT_FOUND: 404,
    ErrorCode.EVENT_NOT_FOUND: 404,
    ErrorCode.EVENT_ALREADY_REVERSED: 409,
    ErrorCode.DUPLICATE_BALANCE_ID: 409,
    ErrorCode.DUPLICATE_IDEMPOTENCY_KEY: 409,
    ErrorCode.FEATURE_ALREADY_EXISTS: 409,
    ErrorCode.PLAN_ALREADY_EXISTS: 409,
    ErrorCode.ENTITY_ALREADY_EXISTS: 409,
    ErrorCode.LOCK_ALREADY_EXISTS: 409,
    ErrorCode.LOCK_ALREADY_FINALIZED: 409,
    ErrorCode.NO_SECRET_KEY: 401,
    ErrorCode.INVALID_SECRET_KEY: 401,
    ErrorCode.INVALID_API_KEY: 401,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMIT_EXCEEDED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


def status_of(code: ErrorCode) -> int:
    return _STATUS[code]

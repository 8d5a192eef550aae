"""Typed JSON error responses for the plain HTTP endpoints (never a bare 500 for a client)."""

from __future__ import annotations

from starlette.responses import JSONResponse

from walletflow.domain.errors import (
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    ReferenceConflict,
    Unauthenticated,
    Unavailable,
    ValidationError,
    WalletflowError,
)

_STATUS: tuple[tuple[type[WalletflowError], int], ...] = (
    (ValidationError, 422),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (IdempotencyKeyReused, 409),
    (Conflict, 409),
    (ReferenceConflict, 409),
    (Unavailable, 503),
)


def status_of(error: WalletflowError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 422


def error_response(error: WalletflowError, status: int | None = None) -> JSONResponse:
    body = {"error": {**error.to_dict(), "retryable": error.retryable}}
    return JSONResponse(body, status_code=status or status_of(error))

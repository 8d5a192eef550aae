"""Typed JSON error responses for the plain HTTP endpoints (never a bare 500 for a client)."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
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


UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53")
"""Connection exceptions, operator intervention (shutdown, cannot connect now), resources."""
MAX_CAUSE_DEPTH = 5


def database_unavailable(error: BaseException) -> Unavailable | None:
    """`Unavailable` (retryable) when `error` says the database is down or unreachable — a
    restart, a dropped connection, a missing socket, a full pool — else None (a bug stays a
    bug). For the API's own reads outside the command bus (authentication, queries)."""
    if isinstance(error, Unavailable):
        return error
    if isinstance(error, PoolTimeoutError | OSError | asyncio.TimeoutError | InterfaceError):
        return Unavailable(f"database unavailable: {error.__class__.__name__}")
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return Unavailable("database connection lost")
    current: BaseException | None = error
    for _ in range(MAX_CAUSE_DEPTH):
        if current is None:
            break
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES):
            return Unavailable(f"database unavailable ({sqlstate})")
        current = getattr(current, "orig", None) or current.__cause__
    return None

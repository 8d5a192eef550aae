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


DATA_EXCEPTION_SQLSTATE_PREFIX = "22"
"""A value the database refuses (a NUL character in text, a number out of range)."""
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
    sqlstate = _sqlstate(error)
    if sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES):
        return Unavailable(f"database unavailable ({sqlstate})")
    return None


def database_error(error: BaseException) -> WalletflowError | None:
    """The typed error for a database failure caused by the outside world, not by a bug:
    `Unavailable` (see `database_unavailable`), or `ValidationError` for an input value the
    database cannot store or compare (a NUL character in text, a number out of range)."""
    unavailable = database_unavailable(error)
    if unavailable is not None:
        return unavailable
    if isinstance(error, DBAPIError):
        sqlstate = _sqlstate(error)
        if sqlstate.startswith(DATA_EXCEPTION_SQLSTATE_PREFIX):
            return ValidationError(
                f"an input value the database cannot use ({sqlstate}): text must not contain "
                "NUL characters and numbers must be in range"
            )
    return None


def _sqlstate(error: BaseException) -> str:
    current: BaseException | None = error
    for _ in range(MAX_CAUSE_DEPTH):
        if current is None:
            break
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate:
            return sqlstate
        current = getattr(current, "orig", None) or current.__cause__
    return ""

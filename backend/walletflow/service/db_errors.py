"""Database failures met by the service, as typed errors: retryable ones become `Unavailable`
(the bus then reruns the whole unit of work), a unique violation becomes `Conflict`."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from walletflow.domain.errors import Conflict, Unavailable, WalletflowError

RETRYABLE_SQLSTATES = frozenset(
    {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "08000", "08003", "08006"}
)
UNIQUE_VIOLATION = "23505"


def _sqlstate(error: DBAPIError) -> str | None:
    original = getattr(error, "orig", None)
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    cause = getattr(original, "__cause__", None)
    return state or getattr(cause, "sqlstate", None)


def map_database_error(error: BaseException) -> WalletflowError | None:
    """The typed error for a database failure, or None if it is not one we understand."""
    if isinstance(error, DBAPIError):
        state = _sqlstate(error)
        if state in RETRYABLE_SQLSTATES or error.connection_invalidated:
            return Unavailable("the database is momentarily unavailable; retry with the same key")
        if state == UNIQUE_VIOLATION:
            constraint = getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)
            return Conflict(
                "the request collides with existing data",
                details={"constraint": constraint} if constraint else None,
            )
        if isinstance(error, OperationalError | InterfaceError):
            return Unavailable("the database is unreachable; retry with the same key")
    if isinstance(error, OSError | ConnectionError | TimeoutError):
        return Unavailable("the database is unreachable; retry with the same key")
    return None

"""What a database failure means, in one table for every layer: the ledger, the command bus and
the API all classify a failure here and turn it into the same typed error.

`classify` names the kind of a failure (`DbFault`) from its SQLSTATE (through SQLAlchemy's and
asyncpg's wrappers) or from the exception itself (a full pool, a lost connection). On top of it:

- `database_error`: the typed error every layer raises for a failure caused by the world, not
  by a bug: `Unavailable` (retryable) when the database is down or a concurrent transaction
  aborted ours, `ValidationError` for a value the database cannot store or compare, `Conflict`
  for a unique violation. A check violation, or anything unknown, stays what it is (a bug).
- `database_unavailable`: only the `Unavailable` part, for callers that must not turn a bug or a
  conflict into a client error (authentication, provider webhooks).
- `is_retryable`: the transaction was aborted by a concurrent one and may be rerun from start.

A layer that knows a constraint may map it more precisely first (the ledger's overdraft check
becomes `InsufficientFunds`, see `walletflow.ledger.pg.errors`), then falls back to these.
No other module reads a SQLSTATE (a unit test holds every module to that).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from walletflow.domain.errors import Conflict, Unavailable, ValidationError, WalletflowError

MAX_CAUSE_DEPTH = 5
"""How far down `orig` / `__cause__` to look for the driver's error."""


class DbFault(enum.Enum):
    """The kinds of database failure that mean something to the layers above."""

    UNIQUE_VIOLATION = "unique_violation"
    """A row collides with an existing one on a unique index."""
    CHECK_VIOLATION = "check_violation"
    """A row breaks a CHECK constraint."""
    RETRY = "retry"
    """A concurrent transaction aborted ours (serialization failure, deadlock, lock not
    available): nothing was written, and the same transaction may be run again from the start."""
    UNAVAILABLE = "unavailable"
    """The database cannot serve now: connection lost or refused, out of resources, shut down,
    statement cancelled (timeout). Retryable with the same idempotency key."""
    INVALID_INPUT = "invalid_input"
    """A value the database cannot store or compare (a NUL character in text, a number out of
    range, a malformed literal)."""


SQLSTATES: Mapping[str, DbFault] = {
    "23505": DbFault.UNIQUE_VIOLATION,  # unique_violation
    "23514": DbFault.CHECK_VIOLATION,  # check_violation
    "40001": DbFault.RETRY,  # serialization_failure
    "40P01": DbFault.RETRY,  # deadlock_detected
    "55P03": DbFault.RETRY,  # lock_not_available
}
"""Single SQLSTATE codes; looked up before the classes below."""

SQLSTATE_CLASSES: Mapping[str, DbFault] = {
    "08": DbFault.UNAVAILABLE,  # connection exception
    "22": DbFault.INVALID_INPUT,  # data exception
    "53": DbFault.UNAVAILABLE,  # insufficient resources (too many connections, disk full)
    "57": DbFault.UNAVAILABLE,  # operator intervention (shutdown, cannot connect now, timeout)
}
"""SQLSTATE classes (the first two characters of a code)."""


@dataclass(frozen=True)
class PgDetails:
    """What the driver says about a failure: its SQLSTATE, the constraint it names, its detail."""

    sqlstate: str | None = None
    constraint: str | None = None
    detail: str | None = None


def pg_details(error: BaseException) -> PgDetails:
    """The SQLSTATE, constraint name and detail of a database error, found through SQLAlchemy's
    wrapper (`orig`) and the dialect's adapter (`__cause__`) down to the driver's exception."""
    sqlstate = constraint = detail = None
    current: BaseException | None = error
    for _ in range(MAX_CAUSE_DEPTH):
        if current is None:
            break
        sqlstate = sqlstate or _text(current, "sqlstate") or _text(current, "pgcode")
        constraint = constraint or _text(current, "constraint_name")
        detail = detail or _text(current, "detail")
        current = getattr(current, "orig", None) or current.__cause__
    return PgDetails(sqlstate=sqlstate, constraint=constraint, detail=detail)


def _text(error: BaseException, attribute: str) -> str | None:
    value = getattr(error, attribute, None)
    return value if isinstance(value, str) and value else None


def classify_sqlstate(sqlstate: str | None) -> DbFault | None:
    """The kind of failure a SQLSTATE code names, or None when no layer gives it a meaning."""
    if not sqlstate:
        return None
    return SQLSTATES.get(sqlstate) or SQLSTATE_CLASSES.get(sqlstate[:2])


def classify(error: BaseException) -> DbFault | None:
    """The kind of a database failure, or None when it is not one (or not one we know)."""
    if isinstance(error, PoolTimeoutError | OSError | TimeoutError | InterfaceError):
        return DbFault.UNAVAILABLE
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:
        return DbFault.UNAVAILABLE
    fault = classify_sqlstate(pg_details(error).sqlstate)
    if fault is None and isinstance(error, OperationalError):
        return DbFault.UNAVAILABLE
    return fault


def is_retryable(error: BaseException) -> bool:
    """True when a concurrent transaction aborted this one: run it again from the start."""
    return classify(error) is DbFault.RETRY


def database_unavailable(error: BaseException) -> Unavailable | None:
    """`Unavailable` (retryable) when `error` says the database cannot serve now or a concurrent
    transaction aborted ours — a restart, a dropped connection, a missing socket, a full pool,
    a deadlock — else None (a bug stays a bug)."""
    if isinstance(error, Unavailable):
        return error
    fault = classify(error)
    if fault is DbFault.RETRY:
        return Unavailable("database conflict (serialization failure or deadlock); retry")
    if fault is DbFault.UNAVAILABLE:
        return Unavailable(f"database unavailable ({_reason(error)}); retry with the same key")
    return None


def database_error(error: BaseException) -> WalletflowError | None:
    """The typed error for a database failure caused by the outside world, not by a bug:
    `Unavailable` (see `database_unavailable`), `ValidationError` for an input value the
    database cannot use, `Conflict` for a unique violation; else None."""
    if isinstance(error, WalletflowError):
        return error
    unavailable = database_unavailable(error)
    if unavailable is not None:
        return unavailable
    fault = classify(error)
    details = pg_details(error)
    if fault is DbFault.INVALID_INPUT:
        return ValidationError(
            f"an input value the database cannot use ({details.sqlstate}): text must not "
            "contain NUL characters and numbers must be in range"
        )
    if fault is DbFault.UNIQUE_VIOLATION:
        return Conflict(
            "the request collides with existing data",
            details={"constraint": details.constraint} if details.constraint else None,
        )
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "connection lost"
    return pg_details(error).sqlstate or error.__class__.__name__

"""Database failures as the application meets them, built without a server: asyncpg's exception
for a SQLSTATE, adapted by SQLAlchemy's asyncpg dialect and wrapped in its `DBAPIError`, the
same chain (`orig`, `__cause__`) a failing statement raises."""

from __future__ import annotations

import inspect
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError

_DBAPI: Any = AsyncAdapt_asyncpg_dbapi(asyncpg)  # type: ignore[no-untyped-call]

DRIVER_ERRORS: dict[str, type[asyncpg.PostgresError]] = {
    str(getattr(cls, "sqlstate")): cls  # noqa: B009
    for _, cls in inspect.getmembers(asyncpg.exceptions, inspect.isclass)
    if issubclass(cls, asyncpg.PostgresError) and getattr(cls, "sqlstate", None)
}
"""Every SQLSTATE PostgreSQL defines (as asyncpg knows them) -> asyncpg's exception class."""


def driver_error(
    sqlstate: str,
    *,
    constraint: str | None = None,
    detail: str | None = None,
    connection_invalidated: bool = False,
) -> DBAPIError:
    """The `DBAPIError` a statement failing with `sqlstate` raises through SQLAlchemy."""
    fields = {"C": sqlstate, "M": f"failed with {sqlstate}"}
    if constraint is not None:
        fields["n"] = constraint
    if detail is not None:
        fields["D"] = detail
    original = DRIVER_ERRORS[sqlstate].new(fields)
    translate = _DBAPI._asyncpg_error_translate
    kind = next(k for k in type(original).__mro__ if k in translate)
    adapted = translate[kind](original.args[0], original)
    adapted.__cause__ = original
    error = DBAPIError.instance(
        "SELECT 1",
        {},
        adapted,
        _DBAPI.Error,
        connection_invalidated=connection_invalidated,
    )
    assert isinstance(error, DBAPIError)
    return error

"""The command log: how many commands completed and failed in a recent window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import command_log
from walletflow.service.clock import Clock
from walletflow.views.visibility import Visibility

MAX_WINDOW_S = 366 * 24 * 3600


@dataclass(frozen=True)
class CommandStats:
    since: datetime
    posted: int
    failed: int


async def command_stats(
    connection: AsyncConnection, visibility: Visibility, clock: Clock, window_s: int
) -> CommandStats:
    """Completed and failed commands over the last `window_s` seconds (clamped to
    1..MAX_WINDOW_S): staff and analysts."""
    visibility.require_everything()
    window_s = max(1, min(window_s, MAX_WINDOW_S))
    since = clock.now() - timedelta(seconds=window_s)
    c = command_log.c
    statement = select(
        func.count().filter(c.status == "completed"), func.count().filter(c.status == "failed")
    ).where(c.created_at >= since)
    posted, failed = (await connection.execute(statement)).one()
    return CommandStats(since=since, posted=int(posted), failed=int(failed))


@dataclass(frozen=True)
class FailureCount:
    error_code: str
    count: int
    last_at: datetime
    last_command: str


async def failures_by_code(
    connection: AsyncConnection, visibility: Visibility, clock: Clock, window_s: int
) -> list[FailureCount]:
    """Failed commands over the last `window_s` seconds (clamped like `command_stats`) per
    error code, most frequent first: staff and analysts."""
    visibility.require_everything()
    window_s = max(1, min(window_s, MAX_WINDOW_S))
    since = clock.now() - timedelta(seconds=window_s)
    c = command_log.c
    code = func.coalesce(c.error_code, "UNKNOWN")
    last = func.max(c.created_at)
    statement = (
        select(
            code.label("code"),
            func.count().label("n"),
            last.label("last_at"),
            func.max(c.command).label("command"),
        )
        .where(c.status == "failed", c.created_at >= since)
        .group_by(code)
        .order_by(func.count().desc(), code)
    )
    return [
        FailureCount(str(row.code), int(row.n), row.last_at, str(row.command))
        for row in await connection.execute(statement)
    ]


@dataclass(frozen=True)
class FailedCommand:
    command: str
    error_code: str
    actor: str
    idempotency_key: str
    merchant_id: str | None
    created_at: datetime


async def failed_commands(
    connection: AsyncConnection,
    visibility: Visibility,
    clock: Clock,
    window_s: int,
    error_code: str | None,
    limit: int,
) -> list[FailedCommand]:
    """The latest failed commands of the window (optionally of one error code), newest first:
    the drill-down of `failures_by_code`."""
    visibility.require_everything()
    window_s = max(1, min(window_s, MAX_WINDOW_S))
    since = clock.now() - timedelta(seconds=window_s)
    c = command_log.c
    statement = select(command_log).where(c.status == "failed", c.created_at >= since)
    if error_code is not None:
        statement = statement.where(func.coalesce(c.error_code, "UNKNOWN") == error_code)
    statement = statement.order_by(c.created_at.desc(), c.id.desc()).limit(max(1, min(limit, 200)))
    return [
        FailedCommand(
            row.command,
            row.error_code or "UNKNOWN",
            row.actor,
            row.idempotency_key,
            row.merchant_id,
            row.created_at,
        )
        for row in await connection.execute(statement)
    ]

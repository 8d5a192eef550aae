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

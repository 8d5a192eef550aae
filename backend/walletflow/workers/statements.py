"""The statement rebuilder job: brings the statements read model up to date from the postings.

It calls `walletflow.reporting.statements.rebuild_statements(connection, full=…, progress=…)`
(bounded batches, serialized by its own advisory lock) in one transaction: incrementally on a
cron and after money events, fully as a long job (`rebuildStatements(full: true)` queues one;
see `walletflow.workers.jobs`). Progress is published while it runs to the Redis
key `walletflow:statements:progress` as JSON `{"full", "state": "running" | "done" | "failed",
"applied", "total", "updatedAt"}`; the final report is the job's result. A Redis lock makes a
second job skip while one runs (instead of queueing behind the advisory lock); a run stopped by
the rebuilder's batch bound is continued by the next tick. The arq job around it,
`rebuild_statements_job`, is in `workers.settings` with the other jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.reporting.statements import Progress, rebuild_statements

log = logging.getLogger(__name__)

PROGRESS_KEY = "walletflow:statements:progress"
LOCK_KEY = "walletflow:statements:lock"
LOCK_TTL_S = 600
PROGRESS_TTL_S = 24 * 3600
PROGRESS_FLUSH_S = 0.5


class ProgressRecorder:
    """The rebuilder's `progress(applied, total)` callback: keeps the latest figures, which the
    job flushes to Redis on a timer (the callback itself never blocks the rebuild)."""

    def __init__(self, full: bool, forward: Progress | None = None) -> None:
        self.full = full
        self.applied = 0
        self.total = 0
        self.state = "running"
        self._forward = forward

    def __call__(self, applied: int, total: int) -> None:
        assert 0 <= applied <= total, (applied, total)
        self.applied = applied
        self.total = total
        if self._forward is not None:
            self._forward(applied, total)

    def document(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "state": self.state,
            "applied": self.applied,
            "total": self.total,
            "updatedAt": time.time(),
        }

    async def flush(self, redis: Any) -> None:
        try:
            await redis.set(PROGRESS_KEY, json.dumps(self.document()), ex=PROGRESS_TTL_S)
        except RedisError as error:
            log.warning("statements progress not published: %s", error)


async def run_statements_rebuild(
    engine: AsyncEngine, redis: Any, *, full: bool, progress: Progress | None = None
) -> dict[str, Any]:
    """One rebuild with progress published to `walletflow:statements:progress` (and passed to
    `progress`); returns the rebuilder's report (or `{"state": "skipped"}` while another run
    holds the lock)."""
    token = f"{time.time()}"
    if not await redis.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL_S):
        return {"state": "skipped", "reason": "another rebuild is running"}
    recorder = ProgressRecorder(full, progress)
    stop = asyncio.Event()

    async def flusher() -> None:
        while not stop.is_set():
            await recorder.flush(redis)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROGRESS_FLUSH_S)

    task = asyncio.create_task(flusher())
    try:
        async with engine.begin() as connection:
            report = await rebuild_statements(connection, full=full, progress=recorder)
        recorder.state = "done"
        return {"state": "done", **report.to_json()}
    except Exception:
        recorder.state = "failed"
        log.exception("statements rebuild (full=%s) failed", full)
        raise
    finally:
        stop.set()
        await task
        await recorder.flush(redis)
        if await redis.get(LOCK_KEY) == token.encode():
            await redis.delete(LOCK_KEY)

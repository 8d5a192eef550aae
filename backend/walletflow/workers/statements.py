"""The statement rebuilder job: brings the statements read model up to date from the postings.

It calls `walletflow.reporting.statements.rebuild_statements(connection, full=…, progress=…)`
in one transaction: incrementally on a cron and after money events, fully on demand
(`rebuildStatements` → `enqueue_full_statements_rebuild`). Progress is reported while it runs
into the Redis key `walletflow:statements:progress` (JSON: `{"full", "state": "running" |
"done" | "failed", "progress": <the last values the rebuilder reported>, "updatedAt"}`) and the
final report is the job's result. Two rebuilds never run at once: a Redis lock serializes them
(the read model's own cursor makes a rebuild safe to repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PROGRESS_KEY = "walletflow:statements:progress"
LOCK_KEY = "walletflow:statements:lock"
LOCK_TTL_S = 600
PROGRESS_TTL_S = 24 * 3600
PROGRESS_FLUSH_S = 0.5
REPORTING_MODULE = "walletflow.reporting.statements"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class ProgressRecorder:
    """A sync callback for the rebuilder (`progress(*values, **named)`) that keeps the latest
    values; `flush` writes them to Redis (the job flushes on a timer, so callbacks never block)."""

    def __init__(self, full: bool) -> None:
        self.full = full
        self.latest: Any = None
        self.state = "running"
        self.calls = 0

    def __call__(self, *values: Any, **named: Any) -> None:
        self.calls += 1
        if named:
            self.latest = _jsonable({**dict(enumerate(values)), **named})
        else:
            self.latest = _jsonable(values[0] if len(values) == 1 else list(values))

    def document(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "state": self.state,
            "progress": self.latest,
            "updates": self.calls,
            "updatedAt": time.time(),
        }

    async def flush(self, redis: Any) -> None:
        with contextlib.suppress(Exception):
            await redis.set(PROGRESS_KEY, json.dumps(self.document()), ex=PROGRESS_TTL_S)


def load_rebuilder() -> Callable[..., Any] | None:
    """`rebuild_statements` from the reporting area, or None when it is not installed."""
    try:
        module = importlib.import_module(REPORTING_MODULE)
    except ModuleNotFoundError:
        return None
    rebuild: Callable[..., Any] = module.rebuild_statements
    return rebuild


async def rebuild_statements_job(ctx: dict[str, Any], full: bool = False) -> dict[str, Any]:
    """arq job: one rebuild (incremental unless `full`), progress into Redis."""
    from walletflow.workers.settings import resources

    rebuild = load_rebuilder()
    if rebuild is None:
        return {"state": "skipped", "reason": f"{REPORTING_MODULE} is not installed"}
    redis = ctx["redis"]
    token = f"{time.time()}"
    if not await redis.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL_S):
        return {"state": "skipped", "reason": "another rebuild is running"}
    recorder = ProgressRecorder(full)
    stop = asyncio.Event()

    async def flusher() -> None:
        while not stop.is_set():
            await recorder.flush(redis)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROGRESS_FLUSH_S)

    task = asyncio.create_task(flusher())
    try:
        async with resources(ctx).engine.begin() as connection:
            report = await rebuild(connection, full=full, progress=recorder)
        recorder.state = "done"
        return {"state": "done", "full": full, "report": _jsonable(report)}
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

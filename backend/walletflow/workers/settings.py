"""arq worker settings: the jobs and cron schedule every `walletflow worker` runs.

Every job is safe to run on several workers at once: the relay and the webhook sender claim
rows with `FOR UPDATE SKIP LOCKED`, sagas are leased, and arq gives each cron tick to one worker.
`on_startup` reads the settings (DATABASE_URL, REDIS_URL, PROVIDERS_FILE, the SAGA_*/OUTBOX_*/
WEBHOOK_* tunables) and has the composition root wire the process's resources
(`bootstrap.open_worker`: engine, command bus, provider registry, HTTP client, saga runner);
`on_shutdown` closes them.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings

from walletflow.bootstrap import WorkerResources, open_worker
from walletflow.config import ConfigError, load_settings
from walletflow.workers.config import load_worker_config
from walletflow.workers.heartbeat import record_heartbeat
from walletflow.workers.jobs_help import JOBS
from walletflow.workers.outbox_relay import publish_outbox_age, relay_outbox
from walletflow.workers.statements import run_statements_rebuild
from walletflow.workers.webhooks import deliver_due_webhooks

log = logging.getLogger(__name__)

WORKER_MAX_JOBS = 20
JOB_TIMEOUT_S = 300
TICK_TIMEOUT_S = 150
EVERY_SECOND = set(range(60))
EVERY_FIVE_SECONDS = set(range(0, 60, 5))
CONTEXT_KEY = "walletflow"


def resources(ctx: dict[str, Any]) -> WorkerResources:
    found = ctx[CONTEXT_KEY]
    assert isinstance(found, WorkerResources), "on_startup builds the worker's resources"
    return found


async def startup(ctx: dict[str, Any]) -> None:
    settings = load_settings()
    config = load_worker_config()
    database_url = settings.database_url or os.environ.get("DATABASE_URL")
    if not database_url:
        raise ConfigError("DATABASE_URL", "the worker needs a database")
    worker = open_worker(settings, config, database_url)
    ctx[CONTEXT_KEY] = worker
    log.info("walletflow worker %s started: %s", worker.owner, ", ".join(JOBS))


async def shutdown(ctx: dict[str, Any]) -> None:
    found = ctx.pop(CONTEXT_KEY, None)
    if isinstance(found, WorkerResources):
        await found.aclose()


async def relay_outbox_job(ctx: dict[str, Any]) -> dict[str, Any]:
    worker = resources(ctx)
    report = await relay_outbox(worker.engine, ctx["redis"], worker.config.outbox)
    if report.relayed:
        # Money moved: bring the statements read model up to date soon (one job per second).
        await ctx["redis"].enqueue_job(
            "rebuild_statements_job", _job_id=f"statements:incremental:{int(time.time())}"
        )
    return report.to_json()


async def deliver_webhooks_job(ctx: dict[str, Any]) -> dict[str, int]:
    worker = resources(ctx)
    report = await deliver_due_webhooks(
        worker.engine, worker.http, worker.config.outbox, worker.owner
    )
    return report.to_json()


async def saga_tick(ctx: dict[str, Any]) -> dict[str, Any]:
    report = await resources(ctx).saga.tick()
    return report.to_json()


async def publish_outbox_age_job(ctx: dict[str, Any]) -> dict[str, Any]:
    worker = resources(ctx)
    status = await publish_outbox_age(worker.engine, ctx["redis"], worker.config.outbox)
    return status.to_json()


async def rebuild_statements_job(ctx: dict[str, Any], full: bool = False) -> dict[str, Any]:
    """One statements rebuild (incremental unless `full`), progress into Redis."""
    return await run_statements_rebuild(resources(ctx).engine, ctx["redis"], full=full)


async def statements_tick(ctx: dict[str, Any]) -> dict[str, Any]:
    return await rebuild_statements_job(ctx, full=False)


async def seal_ledger(ctx: dict[str, Any]) -> int:
    """Chain what has committed since the last seal (one sealer at a time: an advisory lock;
    a worker that finds it held returns 0). Only the built-in Postgres ledger has a sealer."""
    sealer = resources(ctx).container.sealer
    if sealer is None:
        return 0
    return await sealer.seal()


async def enqueue_full_statements_rebuild(redis: Any) -> str | None:
    """For `rebuildStatements`: queue one full rebuild (a second request while one is queued is
    the same job). `redis` is an `arq.connections.ArqRedis`; returns the job id or None."""
    job = await redis.enqueue_job(
        "rebuild_statements_job", full=True, _job_id=f"statements:full:{int(time.time())}"
    )
    return None if job is None else str(job.job_id)


def worker_settings(
    redis_url: str, *, burst: bool = False, max_jobs: int = WORKER_MAX_JOBS
) -> dict[str, Any]:
    """The arq settings mapping for `arq.worker.run_worker`."""
    assert 1 <= max_jobs <= 1000
    statements_interval_s = load_worker_config().statements_interval_s
    return {
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "functions": [
            func(rebuild_statements_job, name="rebuild_statements_job", keep_result=60),
        ],
        "cron_jobs": [
            cron(record_heartbeat, second={0, 15, 30, 45}, run_at_startup=True),
            cron(
                relay_outbox_job, name="relay_outbox", second=EVERY_SECOND, timeout=TICK_TIMEOUT_S
            ),
            cron(
                deliver_webhooks_job,
                name="deliver_webhooks",
                second=EVERY_SECOND,
                timeout=TICK_TIMEOUT_S,
            ),
            cron(saga_tick, name="saga_tick", second=EVERY_SECOND, timeout=TICK_TIMEOUT_S),
            cron(
                publish_outbox_age_job,
                name="publish_outbox_age",
                second=EVERY_FIVE_SECONDS,
                timeout=TICK_TIMEOUT_S,
            ),
            cron(
                seal_ledger,
                name="seal_ledger",
                second=EVERY_FIVE_SECONDS,
                timeout=TICK_TIMEOUT_S,
            ),
            cron(
                statements_tick,
                name="statements_tick",
                second=set(range(0, 60, statements_interval_s)),
                timeout=JOB_TIMEOUT_S,
            ),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": max_jobs,
        "job_timeout": JOB_TIMEOUT_S,
        "keep_result": 60,
        "handle_signals": True,
        "burst": burst,
    }

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
from walletflow.observability import metrics
from walletflow.observability.context import bind_actor, bind_request_id
from walletflow.observability.tracing import configure_tracing, shutdown_tracing
from walletflow.workers.config import load_worker_config
from walletflow.workers.heartbeat import record_heartbeat
from walletflow.workers.jobs import LONG_JOB_TIMEOUT_S, dispatch_jobs, execute_job
from walletflow.workers.jobs_help import JOBS
from walletflow.workers.metrics import GATES_CHECK_INTERVAL_S, check_gates
from walletflow.workers.metrics_server import MetricsServer
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


METRICS_SERVER_KEY = "walletflow_metrics_server"


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
    configure_tracing(
        settings.tracing_otlp_endpoint,
        "walletflow-worker",
        sample_ratio=settings.tracing_sample_ratio,
    )
    worker = open_worker(settings, config, database_url)
    metrics.instrument_pool(worker.engine)
    ctx[CONTEXT_KEY] = worker
    if settings.worker_metrics_port:
        server = MetricsServer(
            worker.engine,
            ctx["redis"],
            token=settings.metrics_token,
            host=settings.worker_metrics_host,
            port=settings.worker_metrics_port,
        )
        if await server.start():
            ctx[METRICS_SERVER_KEY] = server
    log.info("walletflow worker %s started: %s", worker.owner, ", ".join(JOBS))


async def shutdown(ctx: dict[str, Any]) -> None:
    found = ctx.pop(CONTEXT_KEY, None)
    if isinstance(found, WorkerResources):
        server = ctx.pop(METRICS_SERVER_KEY, None)
        if isinstance(server, MetricsServer):
            await server.close()
        metrics.release_pool(found.engine)
        await found.aclose()
    shutdown_tracing()


async def on_job_start(ctx: dict[str, Any]) -> None:
    """Every log line of a job names it: the arq job id as the request id, `worker` as actor."""
    bind_request_id(str(ctx.get("job_id") or "-"))
    bind_actor("worker")


async def relay_outbox_job(ctx: dict[str, Any]) -> dict[str, Any]:
    worker = resources(ctx)
    report = await relay_outbox(worker.engine, ctx["redis"], worker.config.outbox)
    metrics.OUTBOX_RELAYED.inc(report.relayed)
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
    sealed = await sealer.seal()
    metrics.LEDGER_SEALED.inc(sealed)
    return sealed


async def run_job(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A long job (see workers/jobs.py), queued by `dispatch_jobs_job`."""
    worker = resources(ctx)
    return await execute_job(
        worker.engine,
        ctx["redis"],
        job_id,
        worker.owner,
        ledger_backend=worker.container.settings.ledger_backend,
    )


async def dispatch_jobs_job(ctx: dict[str, Any]) -> dict[str, int]:
    return await dispatch_jobs(resources(ctx).engine, ctx["redis"])


async def check_gates_job(ctx: dict[str, Any]) -> dict[str, Any]:
    worker = resources(ctx)
    status = await check_gates(worker.engine, ctx["redis"], worker.container.templates)
    return {"state": "skipped"} if status is None else status.to_json()


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
            func(run_job, name="run_job", keep_result=60, timeout=LONG_JOB_TIMEOUT_S),
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
                dispatch_jobs_job, name="dispatch_jobs", second=EVERY_SECOND, timeout=TICK_TIMEOUT_S
            ),
            cron(
                check_gates_job,
                name="check_gates",
                second=set(range(0, 60, GATES_CHECK_INTERVAL_S)),
                timeout=JOB_TIMEOUT_S,
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
        "on_job_start": on_job_start,
        "max_jobs": max_jobs,
        "job_timeout": JOB_TIMEOUT_S,
        "keep_result": 60,
        "handle_signals": True,
        "burst": burst,
    }

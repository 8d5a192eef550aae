"""arq worker settings: the jobs and cron schedule every `walletflow worker` runs."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.connections import RedisSettings

from walletflow.workers.heartbeat import record_heartbeat

WORKER_MAX_JOBS = 20
JOB_TIMEOUT_S = 300


def worker_settings(redis_url: str) -> dict[str, Any]:
    """The arq settings mapping for `arq.worker.create_worker`."""
    return {
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "functions": [],
        "cron_jobs": [cron(record_heartbeat, second={0, 15, 30, 45}, run_at_startup=True)],
        "max_jobs": WORKER_MAX_JOBS,
        "job_timeout": JOB_TIMEOUT_S,
        "handle_signals": True,
    }

"""What `walletflow worker` runs, in words (kept import-light: `walletflow --help` reads it)."""

from __future__ import annotations

JOBS: dict[str, str] = {
    "relay_outbox": "1 s: outbox -> stream walletflow:events, sagas, webhooks",
    "deliver_webhooks": "1 s: signed merchant webhooks, backoff, dead letter",
    "saga_tick": "1 s: advance due payout sagas; start missing ones",
    "publish_outbox_age": "5 s: outbox age to Redis + outbox.age event",
    "statements_tick": "STATEMENTS_INTERVAL_S: incremental statements",
    "seal_ledger": "every 5 s: append committed transactions to the ledger's hash chain",
    "rebuild_statements_job": "after money events (incremental)",
    "dispatch_jobs": "1 s: hand queued long jobs (full rebuilds, …) to run_job",
    "run_job": "a long job: leased, progress in its row, done/failed",
    "check_gates": "30 s: the four gates, for /metrics (walletflow_gate_ok)",
    "record_heartbeat": "15 s: worker liveness for /healthz",
}

SETTINGS_HELP = """\
environment (defaults in brackets):
  DATABASE_URL, REDIS_URL    the database and Redis (embedded ones when unset)
  PROVIDERS_FILE             payout rails [seeds/providers.json]
  PUBLIC_API_URL             when set, rails call back PUBLIC_API_URL/webhooks/<provider>
  SAGA_REQUERY_MAX [8]  SAGA_BACKOFF_BASE_S [1]  SAGA_BACKOFF_CAP_S [60]
  SAGA_LEASE_S [30]  SAGA_GATED_RETRY_S [30]  SAGA_BATCH [50]
  OUTBOX_BATCH [200]  OUTBOX_STREAM_MAXLEN [100000]
  WEBHOOK_MAX_ATTEMPTS [8]  WEBHOOK_BACKOFF_BASE_S [2]  WEBHOOK_BACKOFF_CAP_S [600]
  WEBHOOK_TIMEOUT_S [5]  STATEMENTS_INTERVAL_S [5]
  WORKER_METRICS_HOST [127.0.0.1]  WORKER_METRICS_PORT [9100, 0: off]  METRICS_TOKEN
  LOG_LEVEL [INFO]  LOG_FORMAT [json]  TRACING_OTLP_ENDPOINT [off]
"""


def describe_jobs() -> str:
    return "\n".join(f"  {name:<23} {what}" for name, what in JOBS.items())


WORKER_DESCRIPTION = (
    "Run one arq worker process on REDIS_URL. Start as many as you like: outbox rows and\n"
    "webhook deliveries are claimed with SKIP LOCKED, payout sagas with leases in Postgres,\n"
    "each cron tick goes to one worker, and a worker killed at any point is replaced by the\n"
    "others once its leases expire.\n\njobs (every …):\n" + describe_jobs() + "\n\n" + SETTINGS_HELP
)

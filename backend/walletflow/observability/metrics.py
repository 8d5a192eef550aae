"""The process's Prometheus metrics and the `/metrics` exposition (text format 0.0.4).

Two kinds of figures:

- **Per process** (this module): HTTP requests, GraphQL operations, commands, long jobs,
  relay/sealer work and the database pool, counted where they happen.
- **System health** (`walletflow.workers.metrics`): outbox age and backlog, saga states, the
  manual-review queue, gate status, sealer lag and jobs per state, read from PostgreSQL and
  Redis when `/metrics` is scraped. They are the same whichever process answers.

Several API processes (`walletflow serve --workers N`): Prometheus multiprocess mode. `serve`
points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory (the setting, or a temp dir) before the
processes start; each writes its counters to memory-mapped files there, and `/metrics` in any
process merges every process's files, so a scrape through a load balancer sees the whole API,
never one random process. Gauges of live state (pool use, requests in flight) use `livesum`
and a process removes its own when it stops. A single process keeps its figures in memory.

Label values are bounded: routes are route templates, GraphQL operations are schema field
names, commands are registry names and outcomes are stable error codes.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text format, which every Prometheus reads (our names need no escaping)."""
OK = "ok"
REPLAYED = "replayed"
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS_S = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

REGISTRY = CollectorRegistry(auto_describe=True)
"""walletflow's own registry (never the library's global one)."""

if MULTIPROC_ENV not in os.environ:
    ProcessCollector(registry=REGISTRY)
    PlatformCollector(registry=REGISTRY)
    GCCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "walletflow_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "walletflow_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ("route", "method"),
    buckets=LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
HTTP_IN_FLIGHT = Gauge(
    "walletflow_http_requests_in_flight",
    "HTTP requests being answered now.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
GRAPHQL_OPERATIONS = Counter(
    "walletflow_graphql_operations",
    "GraphQL operations by type, root field (one sample per distinct root field) and outcome "
    "(`ok` or the first error's code).",
    ("operation_type", "operation", "outcome"),
    registry=REGISTRY,
)
GRAPHQL_DURATION = Histogram(
    "walletflow_graphql_operation_duration_seconds",
    "Time to run a GraphQL operation (parse, validate, execute), by type and root field.",
    ("operation_type", "operation"),
    buckets=LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
COMMANDS = Counter(
    "walletflow_commands",
    "Commands through the bus by name and outcome: ok, replayed, or the typed error code.",
    ("command", "outcome"),
    registry=REGISTRY,
)
COMMAND_DURATION = Histogram(
    "walletflow_command_duration_seconds",
    "Time a command takes through the bus (validation to commit), by name.",
    ("command",),
    buckets=LATENCY_BUCKETS_S,
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "walletflow_job_runs",
    "Long jobs (statement rebuilds, …) run by this worker, by kind and outcome.",
    ("kind", "outcome"),
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "walletflow_job_run_duration_seconds",
    "Time a long job ran in this worker, by kind.",
    ("kind",),
    buckets=JOB_BUCKETS_S,
    registry=REGISTRY,
)
OUTBOX_RELAYED = Counter(
    "walletflow_outbox_relayed_events",
    "Outbox events this worker relayed to the Redis stream.",
    registry=REGISTRY,
)
LEDGER_SEALED = Counter(
    "walletflow_ledger_sealed_transactions",
    "Ledger transactions this worker appended to the hash chain.",
    registry=REGISTRY,
)
DB_POOL_IN_USE = Gauge(
    "walletflow_db_pool_connections_in_use",
    "Database connections checked out of this process's pool (summed over API processes).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_OPEN = Gauge(
    "walletflow_db_pool_connections_open",
    "Database connections the pool holds open, idle or in use.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_POOL_CAPACITY = Gauge(
    "walletflow_db_pool_capacity",
    "Connections the pool may open at most (pool size + overflow).",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)


def multiprocess_dir() -> str | None:
    found = os.environ.get(MULTIPROC_ENV)
    return found or None


def metrics_token_ok(expected: str | None, authorization: str | None) -> bool:
    """`METRICS_TOKEN` unset: open; set: `Authorization: Bearer <token>` (constant time)."""
    if expected is None:
        return True
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def observe_command(command: str, outcome: str, duration_s: float) -> None:
    """The command bus's observer: one call per `execute`, whatever its end."""
    assert duration_s >= 0.0
    COMMANDS.labels(command, outcome).inc()
    COMMAND_DURATION.labels(command).observe(duration_s)


@contextmanager
def job_run(kind: str) -> Iterator[Callable[[str], None]]:
    """Time one long-job run; the caller reports its outcome (`done`, `failed`, …)."""
    started = time.perf_counter()
    outcome = ["failed"]

    def report(value: str) -> None:
        outcome[0] = value

    try:
        yield report
    finally:
        JOB_RUNS.labels(kind, outcome[0]).inc()
        JOB_DURATION.labels(kind).observe(time.perf_counter() - started)


_INSTRUMENTED_KEY = "walletflow_metrics_instrumented"


def instrument_pool(engine: AsyncEngine) -> None:
    """Count the engine's pool: connections open and checked out, and its capacity. Driven
    by the pool's own events, so the figures are exact and cost nothing when idle. Idempotent
    per engine."""
    pool = engine.sync_engine.pool
    if getattr(pool, _INSTRUMENTED_KEY, False):
        return
    setattr(pool, _INSTRUMENTED_KEY, True)
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if callable(size):
        DB_POOL_CAPACITY.inc(int(size()) + max(int(overflow), 0))

    def on_connect(dbapi_connection: Any, record: Any) -> None:
        DB_POOL_OPEN.inc()

    def on_close(dbapi_connection: Any, record: Any) -> None:
        DB_POOL_OPEN.dec()

    def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        record.info["walletflow_checked_out"] = True
        DB_POOL_IN_USE.inc()

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop("walletflow_checked_out", False):
            DB_POOL_IN_USE.dec()

    event.listen(pool, "connect", on_connect)
    event.listen(pool, "close", on_close)
    event.listen(pool, "checkout", on_checkout)
    event.listen(pool, "checkin", on_checkin)


def release_pool(engine: AsyncEngine) -> None:
    """Before an engine is disposed: take its capacity out of the sum."""
    pool = engine.sync_engine.pool
    if not getattr(pool, _INSTRUMENTED_KEY, False):
        return
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if callable(size):
        DB_POOL_CAPACITY.dec(int(size()) + max(int(overflow), 0))


def process_metrics_text() -> bytes:
    """This process's figures, or, in multiprocess mode, every API process's merged."""
    directory = multiprocess_dir()
    if directory is None:
        return generate_latest(REGISTRY)
    merged = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(merged)


def collector_text(collector: Collector) -> bytes:
    """Render one collector (the system-health snapshot) on a registry of its own."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)


def mark_this_process_dead() -> None:
    """In multiprocess mode: drop this process's live gauges (at shutdown)."""
    directory = multiprocess_dir()
    if directory is not None:
        prometheus_multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]

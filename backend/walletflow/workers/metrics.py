"""System health as Prometheus gauges: read from PostgreSQL and Redis when `/metrics` is scraped
(the API and the worker both serve them; the figures are the database's, so any process gives
the same answer).

- outbox: `walletflow_outbox_pending`, `walletflow_outbox_oldest_age_seconds`,
  `walletflow_webhooks_dead_lettered`;
- payout sagas: `walletflow_payout_sagas{state}`;
- manual review: `walletflow_manual_review_queue_size`,
  `walletflow_manual_review_oldest_age_seconds` (since the hold entered manual review);
- gates: `walletflow_gate_ok{gate}` (1 green, 0 red) and
  `walletflow_gates_checked_age_seconds`, from the worker's last check (`check_gates`, every
  `GATES_CHECK_INTERVAL_S`, stored in Redis), absent until a worker has checked once;
- the hash-chain sealer: `walletflow_ledger_unsealed_transactions`,
  `walletflow_ledger_sealer_lag_seconds` (age of the oldest transaction not yet sealed);
- long jobs: `walletflow_jobs{kind,state}`;
- `walletflow_health_snapshot_ok`: 0 when a source could not be read (the rest is then absent).

Each figure is one cheap, indexed query; `HealthCache` keeps a snapshot for
`SNAPSHOT_MIN_INTERVAL_S`, so scrapes in a burst cost the database one read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.ledger.templates import TemplateCatalog
from walletflow.observability.metrics import collector_text
from walletflow.reporting.gates import run_gates
from walletflow.views.outbox import OutboxStatus, outbox_status
from walletflow.workers.payout_saga import saga_counts
from walletflow.workers.statements import LOCK_KEY as STATEMENTS_LOCK_KEY

log = logging.getLogger(__name__)

GATES_STATUS_KEY = "walletflow:gates:status"
GATES_STATUS_TTL_S = 3600
GATES_CHECK_INTERVAL_S = 30
SNAPSHOT_MIN_INTERVAL_S = 2.0
SNAPSHOT_TIMEOUT_S = 5.0
UNSEALED_COUNT_CAP = 1_000_000

_MANUAL_REVIEW_SQL = text(
    "SELECT count(*) AS size,"
    " coalesce(greatest(0, extract(epoch FROM now() - min(state_changed_at))), 0) AS oldest_s"
    " FROM holds WHERE state = 'manual_review'"
)
# The chain's last link, then the transactions after it in the sealer's (xid, id) order.
_SEALER_SQL = text(
    "WITH last AS (SELECT tx_xid, tx_id FROM ledger_log ORDER BY seq DESC LIMIT 1),"
    " after AS (SELECT coalesce((SELECT tx_xid FROM last), -1) AS xid,"
    "                  coalesce((SELECT tx_id FROM last), -1) AS id)"
    " SELECT"
    "  (SELECT count(*) FROM (SELECT 1 FROM ledger_transactions t, after a"
    "     WHERE (t.xid, t.id) > (a.xid, a.id) LIMIT :cap) AS capped) AS unsealed,"
    "  coalesce((SELECT greatest(0, extract(epoch FROM now() - t.inserted_at))"
    "     FROM ledger_transactions t, after a WHERE (t.xid, t.id) > (a.xid, a.id)"
    "     ORDER BY t.xid, t.id LIMIT 1), 0) AS lag_s"
)
_JOBS_SQL = text(
    "SELECT kind, state, count(*) AS n FROM jobs"
    " WHERE state IN ('queued', 'running') OR finished_at > now() - interval '1 day'"
    " GROUP BY kind, state"
)


@dataclass(frozen=True)
class GatesStatus:
    checked_at_unix: float
    gates: dict[str, bool]

    def to_json(self) -> dict[str, Any]:
        return {"checkedAt": self.checked_at_unix, "gates": dict(self.gates)}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> GatesStatus:
        return cls(
            checked_at_unix=float(body["checkedAt"]),
            gates={str(name): bool(ok) for name, ok in dict(body["gates"]).items()},
        )


@dataclass(frozen=True)
class HealthSnapshot:
    ok: bool
    outbox: OutboxStatus | None = None
    sagas: Mapping[str, int] = field(default_factory=dict)
    manual_review_size: int = 0
    manual_review_oldest_s: float = 0.0
    unsealed_transactions: int = 0
    sealer_lag_s: float = 0.0
    jobs: Mapping[tuple[str, str], int] = field(default_factory=dict)
    gates: GatesStatus | None = None
    taken_at_unix: float = field(default_factory=time.time)


async def read_gates_status(redis: Any) -> GatesStatus | None:
    raw = await redis.get(GATES_STATUS_KEY)
    if raw is None:
        return None
    try:
        return GatesStatus.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable gate status in %s", GATES_STATUS_KEY)
        return None


async def store_gates_status(redis: Any, status: GatesStatus) -> None:
    await redis.set(GATES_STATUS_KEY, json.dumps(status.to_json()), ex=GATES_STATUS_TTL_S)


async def check_gates(
    engine: AsyncEngine, redis: Any, templates: TemplateCatalog
) -> GatesStatus | None:
    """Run the four gates (applying new postings to the statements first, as the `gates`
    query does) and store their status for `/metrics`. Skipped (None) while a statements
    rebuild holds its lock: a full rebuild can take long, and the last status stands."""
    if await redis.exists(STATEMENTS_LOCK_KEY):
        return None
    async with engine.begin() as connection:
        results = await run_gates(connection, templates, refresh_statements=True)
    status = GatesStatus(time.time(), {result.name: result.ok for result in results})
    await store_gates_status(redis, status)
    return status


async def read_database_health(connection: AsyncConnection) -> HealthSnapshot:
    """Everything the database knows, in a few indexed queries on one connection."""
    status = await outbox_status(connection)
    sagas = await saga_counts(connection)
    review = (await connection.execute(_MANUAL_REVIEW_SQL)).one()
    sealer = (await connection.execute(_SEALER_SQL, {"cap": UNSEALED_COUNT_CAP})).one()
    jobs = {
        (str(row.kind), str(row.state)): int(row.n)
        for row in (await connection.execute(_JOBS_SQL)).all()
    }
    return HealthSnapshot(
        ok=True,
        outbox=status,
        sagas=sagas,
        manual_review_size=int(review.size),
        manual_review_oldest_s=round(float(review.oldest_s), 3),
        unsealed_transactions=int(sealer.unsealed),
        sealer_lag_s=round(float(sealer.lag_s), 3),
        jobs=jobs,
    )


async def read_health(engine: AsyncEngine, redis: Any) -> HealthSnapshot:
    """The snapshot, or `HealthSnapshot(ok=False)` when a source cannot be read in time."""
    try:
        async with asyncio.timeout(SNAPSHOT_TIMEOUT_S):
            async with engine.connect() as connection:
                snapshot = await read_database_health(connection)
            gates = await read_gates_status(redis)
    except Exception as error:
        log.warning("health snapshot for /metrics failed: %s", f"{type(error).__name__}: {error}")
        return HealthSnapshot(ok=False)
    return HealthSnapshot(**{**snapshot.__dict__, "gates": gates})


class HealthCollector(Collector):
    """A snapshot as metric families (prometheus-client's custom collector protocol)."""

    def __init__(self, snapshot: HealthSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snapshot = self.snapshot
        yield GaugeMetricFamily(
            "walletflow_health_snapshot_ok",
            "1 when the database and Redis figures below could be read, else 0.",
            value=1 if snapshot.ok else 0,
        )
        if not snapshot.ok or snapshot.outbox is None:
            return
        yield from _outbox_families(snapshot.outbox, snapshot.sagas)
        yield GaugeMetricFamily(
            "walletflow_manual_review_queue_size",
            "Payout holds waiting in manual review.",
            value=snapshot.manual_review_size,
        )
        yield GaugeMetricFamily(
            "walletflow_manual_review_oldest_age_seconds",
            "Time the oldest hold has waited in manual review; 0 when the queue is empty.",
            value=snapshot.manual_review_oldest_s,
        )
        yield GaugeMetricFamily(
            "walletflow_ledger_unsealed_transactions",
            f"Ledger transactions not yet in the hash chain (counted up to {UNSEALED_COUNT_CAP}).",
            value=snapshot.unsealed_transactions,
        )
        yield GaugeMetricFamily(
            "walletflow_ledger_sealer_lag_seconds",
            "Age of the oldest ledger transaction not yet sealed into the hash chain.",
            value=snapshot.sealer_lag_s,
        )
        jobs = GaugeMetricFamily(
            "walletflow_jobs",
            "Long jobs by kind and state (queued and running, and those ended in the last day).",
            labels=("kind", "state"),
        )
        for (kind, state), count in sorted(snapshot.jobs.items()):
            jobs.add_metric((kind, state), count)
        yield jobs
        if snapshot.gates is not None:
            gates = GaugeMetricFamily(
                "walletflow_gate_ok",
                "Each gate at the worker's last check: 1 green, 0 red.",
                labels=("gate",),
            )
            for name, ok in sorted(snapshot.gates.gates.items()):
                gates.add_metric((name,), 1 if ok else 0)
            yield gates
            yield GaugeMetricFamily(
                "walletflow_gates_checked_age_seconds",
                "Time since the worker last checked the gates.",
                value=max(0.0, round(snapshot.taken_at_unix - snapshot.gates.checked_at_unix, 3)),
            )


def _outbox_families(status: OutboxStatus, sagas: Mapping[str, int]) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "walletflow_outbox_oldest_age_seconds",
        "Age of the oldest unrelayed outbox event.",
        value=status.oldest_age_s,
    )
    yield GaugeMetricFamily(
        "walletflow_outbox_pending",
        "Outbox events not yet relayed to the stream (the backlog).",
        value=status.pending,
    )
    yield GaugeMetricFamily(
        "walletflow_webhooks_dead_lettered",
        "Merchant webhook deliveries given up on.",
        value=status.dead_lettered,
    )
    family = GaugeMetricFamily(
        "walletflow_payout_sagas", "Payout sagas by state.", labels=("state",)
    )
    for state, count in sorted(sagas.items()):
        family.add_metric((state,), count)
    yield family


class HealthCache:
    """The last snapshot, re-read at most every `SNAPSHOT_MIN_INTERVAL_S` (one read at a time:
    concurrent scrapes wait for the same read)."""

    def __init__(self, engine: AsyncEngine, redis: Any) -> None:
        self._engine = engine
        self._redis = redis
        self._snapshot: HealthSnapshot | None = None
        self._lock = asyncio.Lock()

    async def snapshot(self) -> HealthSnapshot:
        async with self._lock:
            current = self._snapshot
            if current is None or time.time() - current.taken_at_unix >= SNAPSHOT_MIN_INTERVAL_S:
                current = await read_health(self._engine, self._redis)
                self._snapshot = current
            return current


async def collect_metrics(connection: AsyncConnection) -> str:
    """The database's figures as Prometheus text (no Redis: gates absent)."""
    snapshot = await read_database_health(connection)
    return collector_text(HealthCollector(snapshot)).decode()

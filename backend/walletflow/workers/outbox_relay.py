"""The outbox relay: every outbox event reaches the Redis stream at least once.

The write path only INSERTs into `outbox` (same transaction as the ledger write); the relay only
reads it. One relay batch, in one database transaction:

1. claim up to `batch` unpublished events, oldest first, `FOR UPDATE SKIP LOCKED` (several
   relays run at once, each on its own rows, none waits on another);
2. XADD each to the stream `walletflow:events` (MAXLEN ~ bounded);
3. start a payout saga for each `payout.reserved` event, queue one webhook delivery per event
   whose merchant has a `webhook_url`;
4. mark the events published and commit.

If Redis is down, step 2 raises, the transaction rolls back and the events stay unpublished:
they are relayed when Redis is back. If the commit fails after the XADD, the next relay sends
them again. Delivery is therefore at least once, never at most once: **consumers deduplicate by
`event_id`** (`is_new_event` does it in Redis with SET NX and a bounded TTL).

Stream entry fields (all strings): `event_id`, `type`, `merchant_id` ("" when none), `payload`
(the event's JSON object, which also carries `eventId` and `type`), `created_at` (ISO 8601).
The relay also publishes `outbox.age` entries (payload `{"pending", "oldestAgeS",
"deadLettered"}`) so live views can show the outbox age without polling the database.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.db.schema_service import merchants, outbox
from walletflow.db.schema_workers import webhook_deliveries
from walletflow.views.outbox import OutboxStatus, outbox_status
from walletflow.workers.config import OutboxConfig
from walletflow.workers.payout_saga import start_sagas

log = logging.getLogger(__name__)

STREAM_KEY = "walletflow:events"
OUTBOX_STATUS_KEY = "walletflow:outbox:status"
OUTBOX_AGE_KEY = "walletflow:outbox:age_s"
OUTBOX_AGE_EVENT = "outbox.age"
PAYOUT_RESERVED = "payout.reserved"
DEDUP_KEY_PREFIX = "walletflow:seen"
DEDUP_TTL_S = 7 * 24 * 3600
"""How long a consumer remembers an event id; far longer than any redelivery delay."""
STATUS_TTL_S = 300


@dataclass
class RelayReport:
    relayed: int = 0
    batches: int = 0
    sagas_started: int = 0
    webhooks_queued: int = 0
    event_types: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "relayed": self.relayed,
            "batches": self.batches,
            "sagasStarted": self.sagas_started,
            "webhooksQueued": self.webhooks_queued,
            "eventTypes": dict(self.event_types),
            "error": self.error,
        }


def stream_fields(
    event_id: str,
    event_type: str,
    merchant_id: str | None,
    payload: dict[str, Any],
    created_at: datetime,
) -> dict[str, str]:
    """One stream entry (the format consumers read; documented in the module docstring)."""
    return {
        "event_id": event_id,
        "type": event_type,
        "merchant_id": merchant_id or "",
        "payload": json.dumps(payload, sort_keys=True, separators=(",", ":")),
        "created_at": created_at.isoformat(),
    }


async def relay_batch(engine: AsyncEngine, redis: Redis, config: OutboxConfig) -> RelayReport:
    """Relay one bounded batch in one transaction; raise if Redis or the database fails
    (then nothing of this batch is marked published)."""
    report = RelayReport()
    async with engine.begin() as connection:
        rows = (
            await connection.execute(
                select(
                    outbox.c.id,
                    outbox.c.event_id,
                    outbox.c.event_type,
                    outbox.c.merchant_id,
                    outbox.c.payload,
                    outbox.c.created_at,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(config.batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return report
        assert len(rows) <= config.batch
        pipe = redis.pipeline(transaction=False)
        for row in rows:
            pipe.xadd(
                STREAM_KEY,
                stream_fields(  # type: ignore[arg-type]
                    row.event_id, row.event_type, row.merchant_id, row.payload, row.created_at
                ),
                maxlen=config.stream_maxlen,
                approximate=True,
            )
        await pipe.execute()
        ids = [row.id for row in rows]
        payout_ids = [
            str(row.payload["payoutId"])
            for row in rows
            if row.event_type == PAYOUT_RESERVED and row.payload.get("payoutId")
        ]
        report.sagas_started = await start_sagas(connection, payout_ids)
        report.webhooks_queued = await queue_webhooks(connection, ids)
        await connection.execute(
            update(outbox).where(outbox.c.id.in_(ids)).values(published_at=func.now())
        )
        report.relayed = len(rows)
        report.batches = 1
        for row in rows:
            report.event_types[row.event_type] = report.event_types.get(row.event_type, 0) + 1
    return report


async def queue_webhooks(connection: AsyncConnection, outbox_ids: list[int]) -> int:
    """One delivery row per (event, merchant) whose merchant has a webhook URL; idempotent."""
    if not outbox_ids:
        return 0
    source = (
        select(outbox.c.event_id, outbox.c.merchant_id)
        .join(merchants, merchants.c.merchant_id == outbox.c.merchant_id)
        .where(outbox.c.id.in_(outbox_ids), merchants.c.webhook_url.is_not(None))
    )
    statement = (
        pg_insert(webhook_deliveries)
        .from_select(["event_id", "merchant_id"], source)
        .on_conflict_do_nothing(index_elements=["event_id", "merchant_id"])
        .returning(webhook_deliveries.c.id)
    )
    return len((await connection.execute(statement)).all())


async def relay_outbox(engine: AsyncEngine, redis: Redis, config: OutboxConfig) -> RelayReport:
    """Relay batches until the outbox is empty or `max_batches_per_tick` is reached. A Redis
    or database failure ends the tick with `error` set; nothing is lost (see module doc)."""
    total = RelayReport()
    for _ in range(config.max_batches_per_tick):
        try:
            report = await relay_batch(engine, redis, config)
        except (RedisError, OSError) as error:
            total.error = f"{type(error).__name__}: {error}"
            log.warning("outbox relay paused: %s", total.error)
            break
        total.relayed += report.relayed
        total.batches += report.batches
        total.sagas_started += report.sagas_started
        total.webhooks_queued += report.webhooks_queued
        for event_type, count in report.event_types.items():
            total.event_types[event_type] = total.event_types.get(event_type, 0) + count
        if report.relayed < config.batch:
            break
    return total


async def publish_outbox_age(
    engine: AsyncEngine, redis: Redis, config: OutboxConfig
) -> OutboxStatus:
    """Compute the outbox status, store it under `walletflow:outbox:status` / `…:age_s`, and
    publish it on the stream as an `outbox.age` event (raises if Redis is down)."""
    async with engine.connect() as connection:
        status = await outbox_status(connection)
    now_s = time.time()
    payload = {**status.to_json(), "type": OUTBOX_AGE_EVENT, "at": now_s}
    event_id = f"{OUTBOX_AGE_EVENT}:{now_s:.3f}"
    payload["eventId"] = event_id
    pipe = redis.pipeline(transaction=False)
    pipe.set(OUTBOX_STATUS_KEY, json.dumps(status.to_json()), ex=STATUS_TTL_S)
    pipe.set(OUTBOX_AGE_KEY, str(status.oldest_age_s), ex=STATUS_TTL_S)
    pipe.xadd(
        STREAM_KEY,
        {
            "event_id": event_id,
            "type": OUTBOX_AGE_EVENT,
            "merchant_id": "",
            "payload": json.dumps(payload, sort_keys=True, separators=(",", ":")),
            "created_at": datetime.fromtimestamp(now_s).astimezone().isoformat(),
        },
        maxlen=config.stream_maxlen,
        approximate=True,
    )
    await pipe.execute()
    return status


async def is_new_event(
    redis: Redis, consumer: str, event_id: str, *, ttl_s: int = DEDUP_TTL_S
) -> bool:
    """True the first time `consumer` sees `event_id`, False on every redelivery (within
    `ttl_s`). Consumers of the stream or of webhooks call this before acting on an event."""
    assert consumer and event_id and 0 < ttl_s <= 10 * DEDUP_TTL_S
    claimed = await redis.set(f"{DEDUP_KEY_PREFIX}:{consumer}:{event_id}", "1", nx=True, ex=ttl_s)
    return bool(claimed)


async def mark_unpublished(connection: AsyncConnection, event_id: str) -> int:
    """Put one event back in the relay's queue (operator redelivery); returns rows touched."""
    result = await connection.execute(
        update(outbox).where(outbox.c.event_id == event_id).values(published_at=None)
    )
    return int(result.rowcount)


__all__ = [
    "OUTBOX_AGE_EVENT",
    "STREAM_KEY",
    "RelayReport",
    "is_new_event",
    "mark_unpublished",
    "publish_outbox_age",
    "relay_outbox",
]

"""Merchant webhooks: one signed POST per (outbox event, merchant with a `webhook_url`).

The relay queues a `webhook_deliveries` row when it relays an event; `deliver_due_webhooks`
claims due rows with a lease (`FOR UPDATE SKIP LOCKED`, so several workers share the work) and
POSTs them. A 2xx marks the row delivered; anything else (non-2xx, timeout, connection error) is
retried after a bounded exponential backoff with jitter (base · 2^(attempt-1), capped, times a
random factor in [0.5, 1]); after `webhook_max_attempts` the row is dead-lettered. An operator
brings it back with `redeliver(event_id)` (dashboard, API, `walletflow outbox redeliver`).

The request: `POST <webhook_url>` with the JSON body
`{"eventId", "type", "merchantId", "createdAt", "data": <event payload>}` and headers
`Walletflow-Signature: t=<unix s>,v1=<hex HMAC-SHA256(webhook_secret, "<t>." + body)>` (the
scheme of `providers/signing.py`), `Walletflow-Event-Id`, `Walletflow-Event-Type`,
`Walletflow-Delivery-Attempt`. Delivery is at least once: receivers deduplicate by event id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.db.schema_service import merchants, outbox
from walletflow.db.schema_workers import webhook_deliveries
from walletflow.domain.errors import NotFound
from walletflow.providers.signing import SIGNATURE_HEADER, sign
from walletflow.workers.config import OutboxConfig
from walletflow.workers.outbox_relay import mark_unpublished, queue_webhooks

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
EVENT_ID_HEADER = "Walletflow-Event-Id"
EVENT_TYPE_HEADER = "Walletflow-Event-Type"
ATTEMPT_HEADER = "Walletflow-Delivery-Attempt"


@dataclass
class WebhookReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    dead_lettered: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "attempted": self.attempted,
            "delivered": self.delivered,
            "retrying": self.retrying,
            "deadLettered": self.dead_lettered,
        }


@dataclass(frozen=True)
class RedeliverReport:
    event_id: str
    webhooks_reset: int
    stream_requeued: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "eventId": self.event_id,
            "webhooksReset": self.webhooks_reset,
            "streamRequeued": self.stream_requeued,
        }


@dataclass(frozen=True)
class _Due:
    id: int
    event_id: str
    event_type: str
    merchant_id: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    webhook_url: str | None
    webhook_secret: str | None


def webhook_delay_s(config: OutboxConfig, attempts: int, rng: random.Random) -> float:
    """Backoff after the `attempts`-th failed attempt: capped exponential with jitter."""
    assert attempts >= 1
    ceiling = min(
        config.webhook_backoff_cap_s, config.webhook_backoff_base_s * 2 ** min(attempts - 1, 32)
    )
    return float(ceiling * rng.uniform(0.5, 1.0))


class DeliveryVerdict(StrEnum):
    DELIVERED = "delivered"
    DEAD_LETTER = "dead_letter"
    RETRY = "retry"


def delivery_verdict(
    config: OutboxConfig, attempts: int, *, delivered: bool, permanent: bool
) -> DeliveryVerdict:
    """What becomes of a delivery after its `attempts`-th attempt: a 2xx delivers it; a failure
    is retried until `webhook_max_attempts`, or dead-lettered at once when no retry can fix it."""
    assert attempts >= 1
    if delivered:
        return DeliveryVerdict.DELIVERED
    if attempts >= config.webhook_max_attempts or permanent:
        return DeliveryVerdict.DEAD_LETTER
    return DeliveryVerdict.RETRY


def webhook_body(
    event_id: str, event_type: str, merchant_id: str, payload: dict[str, Any], created_at: datetime
) -> bytes:
    document = {
        "eventId": event_id,
        "type": event_type,
        "merchantId": merchant_id,
        "createdAt": created_at.isoformat(),
        "data": payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


_CLAIM_SQL = text(
    "UPDATE webhook_deliveries AS d"
    " SET lease_owner = :owner, lease_expires_at = now() + make_interval(secs => :lease_s)"
    " FROM (SELECT id FROM webhook_deliveries"
    "       WHERE delivered_at IS NULL AND dead_lettered_at IS NULL AND next_attempt_at <= now()"
    "         AND (lease_expires_at IS NULL OR lease_expires_at < now())"
    "       ORDER BY next_attempt_at LIMIT :batch FOR UPDATE SKIP LOCKED) AS due"
    " WHERE d.id = due.id RETURNING d.id"
)


async def deliver_due_webhooks(
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    config: OutboxConfig,
    owner: str,
    *,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.time,
) -> WebhookReport:
    """Attempt every due delivery (at most `webhook_batch`, concurrently) once."""
    chooser = rng or random.Random()
    async with engine.begin() as connection:
        ids = [
            row.id
            for row in (
                await connection.execute(
                    _CLAIM_SQL,
                    {
                        "owner": owner,
                        "lease_s": config.webhook_lease_s,
                        "batch": config.webhook_batch,
                    },
                )
            ).all()
        ]
        if not ids:
            return WebhookReport()
        rows = (
            await connection.execute(
                select(
                    webhook_deliveries.c.id,
                    webhook_deliveries.c.event_id,
                    webhook_deliveries.c.merchant_id,
                    webhook_deliveries.c.attempts,
                    outbox.c.event_type,
                    outbox.c.payload,
                    outbox.c.created_at,
                    merchants.c.webhook_url,
                    merchants.c.webhook_secret,
                )
                .join(outbox, outbox.c.event_id == webhook_deliveries.c.event_id)
                .join(merchants, merchants.c.merchant_id == webhook_deliveries.c.merchant_id)
                .where(webhook_deliveries.c.id.in_(ids))
            )
        ).all()
    due = [
        _Due(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            merchant_id=row.merchant_id,
            payload=row.payload,
            created_at=row.created_at,
            attempts=row.attempts,
            webhook_url=row.webhook_url,
            webhook_secret=row.webhook_secret,
        )
        for row in rows
    ]
    results = await asyncio.gather(*(_attempt(client, config, item, clock) for item in due))
    report = WebhookReport(attempted=len(due))
    async with engine.begin() as connection:
        for item, (status, error) in zip(due, results, strict=True):
            attempts = item.attempts + 1
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_status": status,
                "last_error": error,
                "lease_owner": None,
                "lease_expires_at": None,
            }
            verdict = delivery_verdict(
                config, attempts, delivered=error is None, permanent=_permanent(item)
            )
            if verdict is DeliveryVerdict.DELIVERED:
                values["delivered_at"] = func.now()
                report.delivered += 1
            elif verdict is DeliveryVerdict.DEAD_LETTER:
                values["dead_lettered_at"] = func.now()
                report.dead_lettered += 1
                log.warning(
                    "webhook %s to %s dead-lettered: %s", item.event_id, item.merchant_id, error
                )
            else:
                delay_s = webhook_delay_s(config, attempts, chooser)
                values["next_attempt_at"] = func.now() + timedelta(seconds=delay_s)
                report.retrying += 1
            await connection.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.id == item.id,
                    webhook_deliveries.c.lease_owner == owner,
                )
                .values(**values)
            )
    return report


def _permanent(item: _Due) -> bool:
    """A failure no retry can fix: the merchant has no URL or no secret (fix, then redeliver)."""
    return not item.webhook_url or not item.webhook_secret


async def _attempt(
    client: httpx.AsyncClient, config: OutboxConfig, item: _Due, clock: Callable[[], float]
) -> tuple[int | None, str | None]:
    """POST one delivery; returns (HTTP status or None, error or None when delivered)."""
    if not item.webhook_url:
        return None, "merchant has no webhook_url"
    if not item.webhook_secret:
        return None, "merchant has no webhook_secret (webhooks are always signed)"
    body = webhook_body(
        item.event_id, item.event_type, item.merchant_id, item.payload, item.created_at
    )
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(item.webhook_secret, body, int(clock())),
        EVENT_ID_HEADER: item.event_id,
        EVENT_TYPE_HEADER: item.event_type,
        ATTEMPT_HEADER: str(item.attempts + 1),
    }
    try:
        response = await client.post(
            item.webhook_url, content=body, headers=headers, timeout=config.webhook_timeout_s
        )
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


async def redeliver(engine: AsyncEngine, event_id: str, *, stream: bool = True) -> RedeliverReport:
    """Send one event again: its merchant webhook deliveries restart from attempt 0 (dead-letters
    included) and, with `stream`, it is relayed to the Redis stream again (consumers dedupe)."""
    async with engine.begin() as connection:
        outbox_id = (
            await connection.execute(select(outbox.c.id).where(outbox.c.event_id == event_id))
        ).scalar_one_or_none()
        if outbox_id is None:
            raise NotFound(f"no outbox event {event_id}", details={"eventId": event_id})
        await queue_webhooks(connection, [int(outbox_id)])
        reset = await connection.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.event_id == event_id)
            .values(
                attempts=0,
                next_attempt_at=func.now(),
                delivered_at=None,
                dead_lettered_at=None,
                last_error=None,
                last_status=None,
                lease_owner=None,
                lease_expires_at=None,
            )
        )
        requeued = stream and await mark_unpublished(connection, event_id) > 0
    return RedeliverReport(
        event_id=event_id, webhooks_reset=int(reset.rowcount), stream_requeued=requeued
    )

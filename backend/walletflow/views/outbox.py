"""The outbox's health: events written but not yet relayed to the stream, and merchant webhook
deliveries given up on. One read model for the API (`outboxStatus`), the worker's metric and
`outbox.age` event, and `walletflow outbox status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import outbox
from walletflow.db.schema_workers import webhook_deliveries
from walletflow.service.clock import Clock
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    """Events not yet relayed to the stream."""
    oldest_age_s: float
    """Age of the oldest unrelayed event in seconds (the database's clock); 0 when none."""
    dead_lettered: int
    """Merchant webhook deliveries given up on (redeliver them from the dashboard or CLI)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "oldestAgeS": self.oldest_age_s,
            "deadLettered": self.dead_lettered,
        }


@dataclass(frozen=True)
class PendingEvents:
    count: int
    oldest_at: datetime | None
    oldest_age_s: float | None
    """By the caller's clock; None when nothing is pending."""


_PENDING = select(
    func.count(),
    func.min(outbox.c.created_at),
    func.coalesce(
        func.greatest(0.0, func.extract("epoch", func.now() - func.min(outbox.c.created_at))),
        0.0,
    ),
).where(outbox.c.published_at.is_(None))


async def outbox_status(connection: AsyncConnection) -> OutboxStatus:
    """Pending events, their age by the database's clock, and dead letters (two queries)."""
    pending_row = (await connection.execute(_PENDING)).one()
    dead_lettered = (
        await connection.execute(
            select(func.count()).where(webhook_deliveries.c.dead_lettered_at.is_not(None))
        )
    ).scalar_one()
    pending = int(pending_row[0])
    age_s = round(float(pending_row[2]), 3) if pending else 0.0
    assert pending >= 0 and age_s >= 0.0
    return OutboxStatus(pending=pending, oldest_age_s=age_s, dead_lettered=int(dead_lettered))


async def pending_events(
    connection: AsyncConnection, visibility: Visibility, clock: Clock
) -> PendingEvents:
    """Pending events and the age of the oldest by `clock` (staff and analysts)."""
    visibility.require_everything()
    count, oldest, _ = (await connection.execute(_PENDING)).one()
    age = None if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
    return PendingEvents(count=int(count), oldest_at=oldest, oldest_age_s=age)

"""Provider webhook facts: the first delivery of each, and how many deliveries came."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import desc, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import provider_events
from walletflow.views.visibility import Visibility

MAX_PROVIDER_EVENTS = 200


@dataclass(frozen=True)
class ProviderEventRow:
    provider: str
    provider_reference: str
    event_type: str
    event_id: str
    status: str
    """The status walletflow answered the provider with."""
    deliveries: int
    received_at: datetime


async def list_provider_events(
    connection: AsyncConnection, visibility: Visibility, first: int
) -> list[ProviderEventRow]:
    """The newest `first` facts (clamped to 1..MAX_PROVIDER_EVENTS): staff and analysts."""
    visibility.require_everything()
    p = provider_events.c
    statement = (
        select(
            p.provider,
            p.provider_reference,
            p.event_type,
            p.event_id,
            p.response,
            p.deliveries,
            p.received_at,
        )
        .order_by(desc(p.id))
        .limit(max(1, min(first, MAX_PROVIDER_EVENTS)))
    )
    rows = (await connection.execute(statement)).all()
    return [
        ProviderEventRow(
            provider=row.provider,
            provider_reference=row.provider_reference,
            event_type=row.event_type,
            event_id=row.event_id,
            status=str(row.response.get("status", "")),
            deliveries=row.deliveries,
            received_at=row.received_at,
        )
        for row in rows
    ]

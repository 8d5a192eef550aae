"""Provider webhooks at the service level: one provider event becomes one command, forever.

A `(provider, provider_reference)` pair names one provider-side fact. Its command runs through
the bus under the idempotency key `webhook:<provider>:<provider_reference>`, a claim that never
expires: a delivery replayed an hour, twelve hours or a year later — or ten at once — gets the
stored response and moves no money. (The system this replaces lost ₦102.9M to a 12-hour TTL.)
The first delivery is recorded in `provider_events` (UNIQUE(provider, provider_reference));
later ones only count. An event that contradicts the first for the same reference (another
type or amount) is refused as a conflict and left for a person: never money on a guess.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.db.schema_service import holds, provider_events
from walletflow.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    IllegalStateTransition,
    NotFound,
)
from walletflow.domain.principals import provider_principal
from walletflow.money import Asset
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.service.bus import CommandBus
from walletflow.service.clock import Clock
from walletflow.service.key_namespaces import WEBHOOK_KEY_PREFIX

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookOutcome:
    status: str
    """`processed`: the command ran (or had run) for this event; `already_completed`: the payout
    was completed by another path first (saga, operator) and this event moved nothing."""
    body: dict[str, Any]
    """The response; identical for every delivery of the same event."""
    replayed: bool


def webhook_key(provider: str, provider_reference: str) -> str:
    return f"{WEBHOOK_KEY_PREFIX}{provider}:{provider_reference}"


def command_for(provider: str, event: ProviderEvent) -> tuple[str, dict[str, Any]]:
    """The registry command (name, raw input) a provider event stands for."""
    if event.event_type is ProviderEventType.PAYOUT_SUCCEEDED:
        return "settleHold", {
            "payout_id": event.payout_id,
            "provider_reference": event.provider_reference,
        }
    if event.event_type is ProviderEventType.PAYOUT_FAILED:
        reason = f"provider {provider} reported failure: {event.reason or 'no reason given'}"
        return "releaseHold", {"payout_id": event.payout_id, "reason": reason[:500]}
    assert event.event_type is ProviderEventType.PAYIN_RECEIVED, event.event_type
    return "postPayin", {
        "merchant_id": event.merchant_id,
        "currency": Asset.parse(event.asset).code,
        "amount": event.amount_minor,
        "fee": event.fee_minor or 0,
        "vat": event.vat_minor or 0,
        "provider": provider,
        "provider_reference": event.provider_reference,
    }


async def handle_provider_event(
    bus: CommandBus, engine: AsyncEngine, clock: Clock, provider: str, event: ProviderEvent
) -> WebhookOutcome:
    """Apply a verified provider event exactly once; raise typed errors for bad ones
    (IdempotencyKeyReused for a contradicting event, NotFound for an unknown payout, …)."""
    if event.event_type.is_payout:
        await _check_payout_matches(engine, provider, event)
    name, raw = command_for(provider, event)
    key = webhook_key(provider, event.provider_reference)
    try:
        outcome = await bus.execute(name, raw, provider_principal(provider), key)
    except IdempotencyKeyReused:
        log.warning(
            "provider %s sent a contradicting event for reference %s (%s); left for review",
            provider,
            event.provider_reference,
            event.event_type.value,
        )
        raise
    except IllegalStateTransition as error:
        # The payout was completed first by the saga or an operator: nothing moves now, and
        # the same answer is given to every later delivery.
        body = {"status": "already_completed", "command": name, "detail": error.to_dict()}
        await _record(engine, clock, provider, event, body)
        return WebhookOutcome("already_completed", body, replayed=False)
    body = {"status": "processed", "command": name, "result": outcome.result.to_json()}
    await _record(engine, clock, provider, event, body)
    return WebhookOutcome("processed", body, replayed=outcome.replayed)


async def _check_payout_matches(engine: AsyncEngine, provider: str, event: ProviderEvent) -> None:
    """A provider speaks only for its own payouts, and for the amount that was reserved: a
    payout of another rail is indistinguishable from a missing one; a mismatch moves nothing."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(holds.c.provider, holds.c.asset, holds.c.amount_minor).where(
                    holds.c.payout_id == event.payout_id
                )
            )
        ).first()
    if row is None or row.provider != provider:
        raise NotFound(f"no payout {event.payout_id}", details={"payoutId": event.payout_id})
    if row.asset != event.asset or row.amount_minor != event.amount_minor:
        raise Conflict(
            f"event for payout {event.payout_id} does not match it "
            f"({event.asset} {event.amount_minor} vs {row.asset} {row.amount_minor})",
            details={"payoutId": event.payout_id},
        )


async def _record(
    engine: AsyncEngine, clock: Clock, provider: str, event: ProviderEvent, body: dict[str, Any]
) -> None:
    """Keep the first delivery of each provider fact; count the later ones."""
    payload = event.to_json()
    body_hash = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    statement = pg_insert(provider_events).values(
        provider=provider,
        provider_reference=event.provider_reference,
        event_id=event.event_id,
        event_type=event.event_type.value,
        body_hash=body_hash,
        payload=payload,
        response=body,
        received_at=clock.now(),
    )
    async with engine.begin() as connection:
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=["provider", "provider_reference"],
                set_={"deliveries": provider_events.c.deliveries + 1},
            )
        )

"""The ₦102.9M incident, replayed against walletflow's service layer.

The old system deduplicated webhooks with a 12-hour idempotency TTL: a "payout failed" webhook
replayed after the TTL released the payout's funds to the merchant a second time. Here a claim
never expires, so the replays return the original response and move nothing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.service.conftest import Run
from walletflow.bootstrap import Container
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import holds, provider_events
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.service.clock import ManualClock
from walletflow.service.webhooks import WebhookOutcome, handle_provider_event

PAYOUT_MINOR = 100_000 * 100  # ₦100,000.00
AVAILABLE = "merchants:m1:NGN:available"


def failed_payout_event() -> ProviderEvent:
    return ProviderEvent(
        event_id="evt-fail-1",
        event_type=ProviderEventType.PAYOUT_FAILED,
        provider_reference="sandbox-ref-incident",
        asset="NGN/2",
        amount_minor=PAYOUT_MINOR,
        occurred_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        payout_id="po-incident",
        reason="beneficiary bank rejected",
    )


async def reserve_incident_payout(run: Run) -> None:
    """Merchant m1 holds exactly ₦100,000, all reserved for payout po-incident at `sandbox`."""
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("postOpeningBalance", merchant_id="m1", currency="NGN", amount=PAYOUT_MINOR)
    await run(
        "reservePayout",
        merchant_id="m1",
        currency="NGN",
        amount=PAYOUT_MINOR,
        provider="sandbox",
        destination={"bank": "058", "account": "0123456789"},
        payout_id="po-incident",
    )


async def deliver(container: Container) -> WebhookOutcome:
    return await handle_provider_event(
        container.bus, container.engine, container.clock, "sandbox", failed_payout_event()
    )


async def available_minor(container: Container) -> int:
    balances = await container.ledger.balances(accounts=[AVAILABLE], asset="NGN/2")
    return balances.get(AVAILABLE, {}).get("NGN/2", 0)


async def test_replay_after_ttl_pays_once(
    run: Run, container: Container, clock: ManualClock, engine: AsyncEngine
) -> None:
    await reserve_incident_payout(run)
    assert await available_minor(container) == 0

    first = await deliver(container)
    assert first.status == "processed" and not first.replayed
    assert await available_minor(container) == PAYOUT_MINOR

    clock.advance(timedelta(hours=12, minutes=1))
    replays = [await deliver(container) for _ in range(5)]
    clock.advance(timedelta(days=400))
    racing = await asyncio.gather(*(deliver(container) for _ in range(10)))

    for outcome in (*replays, *racing):
        assert outcome.replayed
        assert outcome.body == first.body, "every replay gets the original response"
    assert await available_minor(container) == PAYOUT_MINOR, "credited exactly once"

    async with engine.connect() as connection:
        releases = await connection.scalar(
            select(func.count()).where(
                ledger_transactions.c.reference == "payout:po-incident:released"
            )
        )
        hold_state = await connection.scalar(
            select(holds.c.state).where(holds.c.payout_id == "po-incident")
        )
        deliveries = await connection.scalar(
            select(provider_events.c.deliveries).where(
                provider_events.c.provider_reference == "sandbox-ref-incident"
            )
        )
    assert releases == 1
    assert hold_state == "released"
    assert deliveries == 16


async def test_a_contradicting_event_for_the_same_reference_moves_nothing(
    run: Run, container: Container
) -> None:
    from walletflow.domain.errors import IdempotencyKeyReused

    await reserve_incident_payout(run)
    await deliver(container)
    succeeded = ProviderEvent(
        event_id="evt-ok-1",
        event_type=ProviderEventType.PAYOUT_SUCCEEDED,
        provider_reference="sandbox-ref-incident",
        asset="NGN/2",
        amount_minor=PAYOUT_MINOR,
        occurred_at=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        payout_id="po-incident",
    )
    try:
        await handle_provider_event(
            container.bus, container.engine, container.clock, "sandbox", succeeded
        )
    except IdempotencyKeyReused:
        pass
    else:
        raise AssertionError("a contradicting event must be refused")
    assert await available_minor(container) == PAYOUT_MINOR


async def test_a_provider_cannot_complete_another_providers_payout(
    run: Run, container: Container
) -> None:
    from walletflow.domain.errors import NotFound

    await reserve_incident_payout(run)
    try:
        await handle_provider_event(
            container.bus, container.engine, container.clock, "other-rail", failed_payout_event()
        )
    except NotFound:
        pass
    else:
        raise AssertionError("another provider's event must not touch this payout")
    assert await available_minor(container) == 0


async def test_an_event_for_another_amount_moves_nothing(run: Run, container: Container) -> None:
    from dataclasses import replace

    from walletflow.domain.errors import Conflict

    await reserve_incident_payout(run)
    wrong = replace(failed_payout_event(), amount_minor=PAYOUT_MINOR + 1)
    try:
        await handle_provider_event(
            container.bus, container.engine, container.clock, "sandbox", wrong
        )
    except Conflict:
        pass
    else:
        raise AssertionError("a mismatched event must be refused")
    assert await available_minor(container) == 0

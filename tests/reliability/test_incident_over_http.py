"""The ₦102.9M incident, replayed against a real running API over HTTP.

The old system deduplicated webhooks with a 12-hour TTL, so a `payout.failed` webhook retried
after the TTL released the payout's funds a second time. Here a real uvicorn server runs the
app with an injected clock: the signed webhook is delivered, the clock moves 12 h, the provider
re-signs and retries it 5 times, then 10 copies race concurrently. The merchant is credited
₦100,000 exactly once and every answer equals the first.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import AUTH_TOKEN, Api
from tests.reliability.invariants import check_invariants, describe
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import holds, provider_events
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.providers.serving import serve_in_thread
from walletflow.providers.signing import SIGNATURE_HEADER, sign
from walletflow.service.clock import ManualClock

SECRET = "sandbox-dev-secret-not-for-production"
PAYOUT_MINOR = 100_000 * 100  # ₦100,000.00
PAYOUT_ID = "po-incident-http"
AVAILABLE = "merchants:m1:NGN:available"
REPLAYS = 5
RACERS = 10


def failed_payout_body() -> bytes:
    return ProviderEvent(
        event_id="evt-fail-http-1",
        event_type=ProviderEventType.PAYOUT_FAILED,
        provider_reference="sandbox-ref-incident-http",
        asset="NGN/2",
        amount_minor=PAYOUT_MINOR,
        occurred_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        payout_id=PAYOUT_ID,
        reason="beneficiary bank rejected",
    ).to_bytes()


async def available_minor(api: Api) -> int:
    data = await api.data(
        "query($a: [String!]) { balances(accounts: $a) { account asset balanceMinor } }",
        {"a": [AVAILABLE]},
    )
    return sum(int(row["balanceMinor"]) for row in data["balances"] if row["asset"] == "NGN/2")


@pytest.mark.timeout(60)
async def test_failed_payout_webhook_replayed_after_12h_and_raced_credits_once(
    database_url: str, redis_url: str, redis: Redis, engine: AsyncEngine
) -> None:
    clock = ManualClock()
    env = {"AUTH_TOKEN": AUTH_TOKEN, "SESSION_SECRET": "s" * 40}
    app = create_app(
        load_settings(env),
        database_url,
        redis_url,
        clock=clock,
        unix_now=lambda: clock.now().timestamp(),
    )
    with serve_in_thread(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=20.0) as client:
            api = Api(app=app, client=client, clock=clock, redis=redis)
            await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
            await api.mutate(
                "postOpeningBalance",
                {"merchantId": "m1", "currency": "NGN", "amount": str(PAYOUT_MINOR // 100)},
            )
            reserved = await api.mutate(
                "reservePayout",
                {
                    "merchantId": "m1",
                    "currency": "NGN",
                    "amount": str(PAYOUT_MINOR // 100),
                    "provider": "sandbox",
                    "destination": {"bank": "058", "account": "0123456789"},
                    "payoutId": PAYOUT_ID,
                },
            )
            assert reserved["__typename"] == "CommandSuccess", reserved
            assert await available_minor(api) == 0

            body = failed_payout_body()

            async def deliver() -> tuple[int, dict[str, Any]]:
                signature = sign(SECRET, body, int(clock.now().timestamp()))
                response = await client.post(
                    "/webhooks/sandbox",
                    content=body,
                    headers={"content-type": "application/json", SIGNATURE_HEADER: signature},
                )
                return response.status_code, response.json()

            status, first = await deliver()
            assert status == 200, first
            assert first["replayed"] is False
            assert await available_minor(api) == PAYOUT_MINOR

            clock.advance(timedelta(hours=12, minutes=1))  # past the old system's TTL
            replays = [await deliver() for _ in range(REPLAYS)]
            racing = await asyncio.gather(*(deliver() for _ in range(RACERS)))

            for status, answer in (*replays, *racing):
                assert status == 200, answer
                assert answer["replayed"] is True
                assert {**answer, "replayed": False} == first, "every replay gets the original"
            assert await available_minor(api) == PAYOUT_MINOR, "credited exactly once"

    async with engine.connect() as connection:
        releases = await connection.scalar(
            select(func.count()).where(
                ledger_transactions.c.reference == f"payout:{PAYOUT_ID}:released"
            )
        )
        hold_state = await connection.scalar(
            select(holds.c.state).where(holds.c.payout_id == PAYOUT_ID)
        )
        deliveries = await connection.scalar(
            select(provider_events.c.deliveries).where(
                provider_events.c.provider_reference == "sandbox-ref-incident-http"
            )
        )
    assert releases == 1
    assert hold_state == "released"
    assert deliveries == 1 + REPLAYS + RACERS
    violations = await check_invariants(engine)
    assert not violations, describe(violations)

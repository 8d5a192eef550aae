"""Merchant webhooks: signed, retried with bounded backoff, dead-lettered after N tries, and
redelivered on request; plus the statements job and the `walletflow outbox` CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.integration.workers.conftest import FAST_OUTBOX, Run
from walletflow.db.schema_service import merchants, outbox
from walletflow.db.schema_workers import webhook_deliveries
from walletflow.domain.errors import NotFound
from walletflow.providers.serving import serve_in_thread
from walletflow.providers.signing import SIGNATURE_HEADER, verify
from walletflow.views.outbox import outbox_status
from walletflow.workers.outbox_relay import relay_outbox
from walletflow.workers.statements import LOCK_KEY, PROGRESS_KEY, run_statements_rebuild
from walletflow.workers.webhooks import (
    EVENT_ID_HEADER,
    deliver_due_webhooks,
    redeliver,
    webhook_delay_s,
)

MERCHANT_SECRET = "merchant-webhook-secret-0123456789"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


@dataclass
class Receiver:
    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refuse_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append((dict(request.headers), body))
                if self.refuse_next > 0:
                    self.refuse_next -= 1
                    return PlainTextResponse("busy", status_code=503)
            return PlainTextResponse("ok")

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    with receiver_server.lock:
        receiver_server.received.clear()
        receiver_server.refuse_next = 0
    return receiver_server


@pytest.fixture
async def hooked(run: Run, engine: AsyncEngine, receiver: Receiver) -> str:
    """Merchant m1 with a webhook URL and secret, and one money event in the outbox."""
    await run("createWallet", merchant_id="m1", currency="NGN")
    async with engine.begin() as connection:
        # Earlier events were relayed before the merchant set up webhooks.
        await connection.execute(update(outbox).values(published_at=func.now()))
        await connection.execute(
            update(merchants)
            .where(merchants.c.merchant_id == "m1")
            .values(webhook_url=f"{receiver.url}/hooks/m1", webhook_secret=MERCHANT_SECRET)
        )
    await run("postPayin", merchant_id="m1", currency="NGN", amount="10.00", provider="sandbox")
    return "m1"


async def delivery(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as connection:
        row = (await connection.execute(select(webhook_deliveries))).mappings().one()
    return dict(row)


async def deliver_until(
    engine: AsyncEngine, client: httpx.AsyncClient, done: str, timeout_s: float = 10.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await deliver_due_webhooks(engine, client, FAST_OUTBOX, "test-worker")
        row = await delivery(engine)
        if row[done] is not None:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"delivery not {done} after {timeout_s}s: {await delivery(engine)}")


async def test_merchant_webhook_is_signed_with_the_merchant_secret(
    hooked: str, engine: AsyncEngine, wredis: Redis, receiver: Receiver
) -> None:
    report = await relay_outbox(engine, wredis, FAST_OUTBOX)
    assert report.webhooks_queued >= 1
    async with engine.connect() as connection:
        event_ids = set((await connection.execute(select(outbox.c.event_id))).scalars())
    async with httpx.AsyncClient() as client:
        row = await deliver_until(engine, client, "delivered_at")
    assert row["attempts"] == 1 and row["event_id"] in event_ids
    [(headers, body)] = receiver.received
    verify(MERCHANT_SECRET, body, headers[SIGNATURE_HEADER.lower()], time.time())
    document = json.loads(body)
    assert document["eventId"] == headers[EVENT_ID_HEADER.lower()] == row["event_id"]
    assert document["merchantId"] == "m1" and document["type"] == "payin.posted"


async def test_refused_webhook_is_retried_with_bounded_backoff_then_delivered(
    hooked: str, engine: AsyncEngine, wredis: Redis, receiver: Receiver
) -> None:
    receiver.refuse_next = 2
    await relay_outbox(engine, wredis, FAST_OUTBOX)
    async with httpx.AsyncClient() as client:
        await deliver_due_webhooks(engine, client, FAST_OUTBOX, "test-worker")
        first = await delivery(engine)
        assert first["attempts"] == 1 and first["delivered_at"] is None
        assert first["last_status"] == 503
        row = await deliver_until(engine, client, "delivered_at")
    assert row["attempts"] == 3 and row["dead_lettered_at"] is None
    assert len(receiver.received) == 3


def test_webhook_backoff_is_exponential_jittered_and_capped() -> None:
    import random

    rng = random.Random(7)
    for attempts in range(1, 12):
        ceiling = min(FAST_OUTBOX.webhook_backoff_cap_s, 0.05 * 2 ** (attempts - 1))
        delay_s = webhook_delay_s(FAST_OUTBOX, attempts, rng)
        assert ceiling / 2 <= delay_s <= ceiling


async def test_webhook_is_dead_lettered_after_n_tries_and_redelivered_on_request(
    hooked: str, engine: AsyncEngine, wredis: Redis, receiver: Receiver
) -> None:
    receiver.refuse_next = 1_000
    await relay_outbox(engine, wredis, FAST_OUTBOX)
    async with httpx.AsyncClient() as client:
        row = await deliver_until(engine, client, "dead_lettered_at")
        assert row["attempts"] == FAST_OUTBOX.webhook_max_attempts
        assert len(receiver.received) == FAST_OUTBOX.webhook_max_attempts
        async with engine.connect() as connection:
            assert (await outbox_status(connection)).dead_lettered == 1
        receiver.refuse_next = 0
        report = await redeliver(engine, str(row["event_id"]))
        assert report.webhooks_reset == 1 and report.stream_requeued
        delivered = await deliver_until(engine, client, "delivered_at")
    assert delivered["attempts"] == 1 and delivered["dead_lettered_at"] is None
    async with engine.connect() as connection:
        assert (await outbox_status(connection)).dead_lettered == 0
    with pytest.raises(NotFound):
        await redeliver(engine, "no-such-event")


async def test_statements_job_rebuilds_and_publishes_its_progress(
    hooked: str, engine: AsyncEngine, wredis: Redis
) -> None:
    result = await run_statements_rebuild(engine, wredis, full=True)
    # How many transactions count as finished depends on the server-wide snapshot (other
    # databases' open transactions), so only the job's contract is checked here.
    assert result["state"] == "done" and result["full"] is True
    progress = json.loads(await wredis.get(PROGRESS_KEY))
    assert progress["state"] == "done" and progress["full"] is True
    assert progress["applied"] == result["transactions"]
    await wredis.set(LOCK_KEY, "someone-else")
    skipped = await run_statements_rebuild(engine, wredis, full=False)
    assert skipped["state"] == "skipped"


def test_outbox_cli_prints_status_and_refuses_an_unknown_event(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    status = subprocess.run(
        [sys.executable, "-m", "walletflow", "outbox", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    document = json.loads(status.stdout)
    assert document["pending"] == 0 and document["sagas"]["done"] == 0
    missing = subprocess.run(
        [sys.executable, "-m", "walletflow", "outbox", "redeliver", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error"]["code"] == "NOT_FOUND"

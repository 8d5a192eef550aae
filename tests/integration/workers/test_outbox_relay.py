"""The outbox relay: every event reaches the stream at least once and is marked published;
parallel relays do not duplicate; a Redis outage loses nothing; the age is measured."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.workers.conftest import FAST_OUTBOX, Run, reserve, saga_state
from walletflow.db.schema_service import outbox
from walletflow.views.outbox import outbox_status
from walletflow.workers.config import OutboxConfig
from walletflow.workers.metrics import collect_metrics
from walletflow.workers.outbox_relay import (
    OUTBOX_AGE_EVENT,
    OUTBOX_STATUS_KEY,
    STREAM_KEY,
    is_new_event,
    publish_outbox_age,
    relay_outbox,
)


async def stream_events(redis: Redis) -> list[dict[str, str]]:
    entries = await redis.xrange(STREAM_KEY, count=100_000)
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]


async def unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = (
            await connection.execute(select(func.count()).where(outbox.c.published_at.is_(None)))
        ).scalar_one()
    return int(count)


async def insert_events(engine: AsyncEngine, count: int) -> set[str]:
    ids = {f"evt-{uuid.uuid4()}" for _ in range(count)}
    async with engine.begin() as connection:
        await connection.execute(
            insert(outbox),
            [
                {
                    "event_id": event_id,
                    "event_type": "test.event",
                    "merchant_id": None,
                    "payload": {"eventId": event_id, "type": "test.event"},
                }
                for event_id in ids
            ],
        )
    return ids


def dead_redis() -> Redis:
    """A client for a port nothing listens on: every command fails fast."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2, socket_timeout=0.2)


async def test_relay_delivers_every_event_once_to_the_stream_and_marks_it_published(
    run: Run, funded: str, engine: AsyncEngine, wredis: Redis
) -> None:
    await reserve(run, "po_relay")
    async with engine.connect() as connection:
        expected = {
            row.event_id: row.event_type
            for row in (await connection.execute(select(outbox.c.event_id, outbox.c.event_type)))
        }
    assert "payout.reserved" in expected.values()
    report = await relay_outbox(engine, wredis, FAST_OUTBOX)
    assert report.relayed == len(expected) and report.error is None
    assert report.sagas_started == 1
    events = await stream_events(wredis)
    assert sorted(e["event_id"] for e in events) == sorted(expected)
    for event in events:
        assert event["type"] == expected[event["event_id"]]
        payload = json.loads(event["payload"])
        assert payload["eventId"] == event["event_id"]
    reserved = next(e for e in events if e["type"] == "payout.reserved")
    assert reserved["merchant_id"] == "m1"
    assert json.loads(reserved["payload"])["payoutId"] == "po_relay"
    assert await unpublished(engine) == 0
    assert await saga_state(engine, "po_relay") == "pending_submit"
    again = await relay_outbox(engine, wredis, FAST_OUTBOX)
    assert again.relayed == 0
    assert len(await stream_events(wredis)) == len(expected)


async def test_two_relays_in_parallel_deliver_every_event_exactly_once(
    engine: AsyncEngine, wredis: Redis
) -> None:
    ids = await insert_events(engine, 400)
    config = OutboxConfig(batch=25, max_batches_per_tick=100)
    reports = await asyncio.gather(
        relay_outbox(engine, wredis, config), relay_outbox(engine, wredis, config)
    )
    assert sum(r.relayed for r in reports) == len(ids)
    assert all(r.relayed > 0 for r in reports), "both relays took a share"
    delivered = [e["event_id"] for e in await stream_events(wredis)]
    assert len(delivered) == len(ids) and set(delivered) == ids
    assert await unpublished(engine) == 0


async def test_redis_outage_loses_nothing_and_the_outbox_age_returns_to_zero(
    engine: AsyncEngine, wredis: Redis
) -> None:
    ids = await insert_events(engine, 30)
    down = dead_redis()
    try:
        report = await relay_outbox(engine, down, FAST_OUTBOX)
    finally:
        await down.aclose()
    assert report.relayed == 0 and report.error is not None
    await asyncio.sleep(0.05)
    async with engine.connect() as connection:
        during = await outbox_status(connection)
    assert during.pending == len(ids) and during.oldest_age_s > 0
    recovered = await relay_outbox(engine, wredis, FAST_OUTBOX)
    assert recovered.relayed == len(ids) and recovered.error is None
    async with engine.connect() as connection:
        after = await outbox_status(connection)
    assert after.pending == 0 and after.oldest_age_s == 0.0
    assert {e["event_id"] for e in await stream_events(wredis)} == ids


async def test_outbox_age_is_published_as_a_key_and_a_stream_event(
    engine: AsyncEngine, wredis: Redis
) -> None:
    await insert_events(engine, 3)
    status = await publish_outbox_age(engine, wredis, FAST_OUTBOX)
    assert status.pending == 3
    stored = json.loads(await wredis.get(OUTBOX_STATUS_KEY))
    assert stored["pending"] == 3
    [event] = [e for e in await stream_events(wredis) if e["type"] == OUTBOX_AGE_EVENT]
    assert json.loads(event["payload"])["pending"] == 3
    async with engine.connect() as connection:
        metrics = await collect_metrics(connection)
    assert "walletflow_outbox_pending 3" in metrics
    assert 'walletflow_payout_sagas{state="done"} 0' in metrics


async def test_consumers_deduplicate_by_event_id(wredis: Redis) -> None:
    assert await is_new_event(wredis, "ledger-view", "evt-1")
    assert not await is_new_event(wredis, "ledger-view", "evt-1")
    assert await is_new_event(wredis, "other-consumer", "evt-1")


def test_worker_help_lists_every_job(capsys: pytest.CaptureFixture[str]) -> None:
    from walletflow.entrypoints.cli import main
    from walletflow.workers.jobs_help import JOBS

    with pytest.raises(SystemExit) as exited:
        main(["worker", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for job in JOBS:
        assert job in shown
    assert "SAGA_REQUERY_MAX" in shown and "--burst" in shown

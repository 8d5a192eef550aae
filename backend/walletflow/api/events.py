"""The event stream subscriptions follow: the outbox relay publishes every outbox event to the
Redis stream `walletflow:events` (fields event_id, type, merchant_id, payload JSON). Each
subscription reads it with its own XREAD BLOCK, from the moment it starts; nothing polls the DB.
Reading is paced by the subscriber (the stream is the buffer), and each read is bounded."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from walletflow.bootstrap import REDIS_SOCKET_TIMEOUT_S

log = logging.getLogger(__name__)

EVENTS_STREAM = "walletflow:events"
READ_BLOCK_MS = 1000
MAX_SAFE_BLOCK_MS = int(REDIS_SOCKET_TIMEOUT_S * 1000) - 1000
READ_BATCH = 100
MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class StreamEvent:
    stream_id: str
    event_id: str
    type: str
    merchant_id: str | None
    payload: dict[str, Any]


def _text(fields: dict[bytes, bytes], name: str) -> str:
    value = fields.get(name.encode(), b"")
    return value.decode(errors="replace")


def decode_event(stream_id: bytes, fields: dict[bytes, bytes]) -> StreamEvent:
    raw = fields.get(b"payload", b"{}")
    payload: Any = {}
    if len(raw) <= MAX_PAYLOAD_BYTES:
        try:
            payload = json.loads(raw)
        except ValueError:
            log.warning("event %r has a payload that is not JSON", stream_id)
    return StreamEvent(
        stream_id=stream_id.decode(),
        event_id=_text(fields, "event_id"),
        type=_text(fields, "type"),
        merchant_id=_text(fields, "merchant_id") or None,
        payload=payload if isinstance(payload, dict) else {},
    )


async def last_stream_id(redis: Redis) -> str:
    newest = await redis.xrevrange(EVENTS_STREAM, count=1)
    if not newest:
        return "0-0"
    stream_id: bytes = newest[0][0]
    return stream_id.decode()


async def follow(
    redis: Redis, *, block_ms: int = READ_BLOCK_MS, start_id: str | None = None
) -> AsyncIterator[list[StreamEvent]]:
    """Yield batches of new events (an empty batch when `block_ms` passes with none)."""
    assert 1 <= block_ms <= 60_000
    # A blocking read must return before the client's socket timeout, or Redis would look dead.
    block_ms = min(block_ms, MAX_SAFE_BLOCK_MS)
    cursor = start_id if start_id is not None else await last_stream_id(redis)
    while True:
        answer = await redis.xread({EVENTS_STREAM: cursor}, count=READ_BATCH, block=block_ms)
        batch: list[StreamEvent] = []
        for _stream, entries in answer or []:
            for stream_id, fields in entries:
                batch.append(decode_event(stream_id, fields))
        if batch:
            cursor = batch[-1].stream_id
        yield batch


async def publish(redis: Redis, event: StreamEvent, maxlen: int = 100_000) -> str:
    """Append an event (the outbox relay's job; tests and tools use it too)."""
    stream_id = await redis.xadd(
        EVENTS_STREAM,
        {
            "event_id": event.event_id,
            "type": event.type,
            "merchant_id": event.merchant_id or "",
            "payload": json.dumps(event.payload),
        },
        maxlen=maxlen,
        approximate=True,
    )
    return stream_id.decode() if isinstance(stream_id, bytes) else str(stream_id)

"""Following the event stream: a long block never outlasts the Redis client's socket timeout."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from walletflow.api.events import MAX_SAFE_BLOCK_MS, follow
from walletflow.bootstrap import REDIS_SOCKET_TIMEOUT_S


async def test_a_long_block_returns_an_empty_batch_instead_of_timing_out(redis_url: str) -> None:
    client = Redis.from_url(redis_url, socket_timeout=REDIS_SOCKET_TIMEOUT_S)
    try:
        started = time.monotonic()
        stream = follow(client, block_ms=60_000)
        batch = await asyncio.wait_for(anext(stream), timeout=REDIS_SOCKET_TIMEOUT_S + 5)
        assert batch == []
        assert time.monotonic() - started < REDIS_SOCKET_TIMEOUT_S
        assert MAX_SAFE_BLOCK_MS < REDIS_SOCKET_TIMEOUT_S * 1000
        await stream.aclose()
    finally:
        await client.aclose()

"""The composition root: settings → engines → adapters → app. Nothing connects at import time.

Every entry point (API, worker, CLI, tests) builds its dependencies here and nowhere else, so
that choosing the Postgres ledger or the Formance adapter, or a test double, happens in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.config import Settings
from walletflow.db.engine import create_engine

REDIS_SOCKET_TIMEOUT_S = 5.0


@dataclass
class Resources:
    """The process's long-lived connections, opened by a lifespan and closed by it."""

    settings: Settings
    database_url: str
    redis_url: str
    engine: AsyncEngine
    redis: Redis

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


def open_resources(settings: Settings, database_url: str, redis_url: str) -> Resources:
    """Create the engine and Redis client (both connect lazily, on first use)."""
    engine = create_engine(database_url)
    redis = Redis.from_url(
        redis_url,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
        decode_responses=False,
    )
    return Resources(
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        engine=engine,
        redis=redis,
    )

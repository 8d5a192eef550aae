"""Fixtures shared by every test ring: real PostgreSQL and Redis, a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.databases import clone_database, create_template, drop_database
from tests.support.services import postgres_server_url, redis_server_url
from walletflow.db.engine import create_engine

pytest_plugins = ["tests.support.service_fixtures"]


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    with postgres_server_url() as url:
        yield url


@pytest.fixture(scope="session")
async def template_database(pg_server_url: str) -> AsyncIterator[str]:
    name = await create_template(pg_server_url)
    yield name
    await drop_database(pg_server_url, f"/{name}")


@pytest.fixture
async def database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A migrated database of this test's own, dropped afterwards."""
    url = await clone_database(pg_server_url, template_database)
    yield url
    await drop_database(pg_server_url, url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server_url() as url:
        yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A clean Redis database for this test."""
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()

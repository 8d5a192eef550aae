"""Fixtures shared by every test ring: real PostgreSQL and Redis, a fresh database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support import work_tree
from tests.support.databases import clone_database, create_template, drop_database
from tests.support.services import postgres_server_url, redis_server_url
from walletflow.db.engine import create_engine

pytest_plugins = ["tests.support.service_fixtures"]

_WORK_TREE_BEFORE = pytest.StashKey[work_tree.Snapshot | None]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.stash[_WORK_TREE_BEFORE] = work_tree.snapshot()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it changed the git work tree (tracked files, or new untracked ones).
    Edits that were there before the run are part of the comparison's starting point."""
    before = session.stash.get(_WORK_TREE_BEFORE, None)
    after = work_tree.snapshot() if before is not None else None
    if before is None or after is None:
        return
    changed = work_tree.changes(before, after)
    if not changed:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        "the test run changed the work tree (git status differs from before the run):",
        *(f"    {line}" for line in changed),
        "a test or a process it started wrote into the repository; write to tmp_path or an",
        "ignored directory instead (or, if you edited these files during the run, run again).",
    ]
    if reporter is not None:
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


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

"""The start-up sequence every `walletflow` command and process takes, in one place.

    settings      the caller's `load_settings()` (a bad value: one line, exit 2)
    → services    DATABASE_URL / REDIS_URL, or embedded PostgreSQL / Redis in the data dir
    → migrate     Alembic to the heads (idempotent)
    → engine → container   the composition root, `walletflow.bootstrap`

Processes (`serve`, `worker`, `run`) take the first three steps with `services` and hand the
URLs to what they start, which wires itself in its own lifespan (`create_app`, the worker's
on_startup, both through bootstrap). One-shot commands take the whole sequence with `started`
and get a container; everything it opened is closed, and embedded servers stopped, on exit.

Alembic, the engine and the composition root are imported when a command starts, not when the
`walletflow` parser is built, so `walletflow --help` and `numscript run` stay quick.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from walletflow.config import Settings
from walletflow.embedded import embedded_services

if TYPE_CHECKING:
    from walletflow.bootstrap import Container

COMMAND_POOL_SIZE = 2
"""Connections a one-shot command may hold (it runs one thing at a time)."""
NO_REDIS_URL = "unused://"
"""What `services` yields for Redis when the caller does not need it (nothing is started)."""


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    """`NO_REDIS_URL` unless Redis was asked for."""


@contextmanager
def services(
    settings: Settings, *, redis: bool = False, migrate: bool = True
) -> Iterator[ServiceUrls]:
    """The configured PostgreSQL (and Redis, when `redis`), starting embedded servers for those
    not configured, the schema migrated unless `migrate=False`. Blocking: for synchronous
    callers; `started` is the async whole."""
    from walletflow.db.migrate import upgrade

    redis_url = settings.redis_url if redis else NO_REDIS_URL
    with embedded_services(settings.data_dir, settings.database_url, redis_url) as (
        database_url,
        resolved_redis_url,
    ):
        if migrate:
            upgrade(database_url)
        yield ServiceUrls(database_url=database_url, redis_url=resolved_redis_url)


@asynccontextmanager
async def started(
    settings: Settings, *, migrate: bool = True, pool_size: int = COMMAND_POOL_SIZE
) -> AsyncIterator[Container]:
    """The whole sequence for a one-shot command: services (no Redis), migrations unless
    `migrate=False`, an engine of `pool_size` connections (COMMAND_POOL_SIZE unless the
    command runs several things at once), the container."""
    from walletflow.bootstrap import build_container
    from walletflow.db.engine import create_engine
    from walletflow.db.migrate import upgrade_async

    with services(settings, migrate=False) as urls:
        if migrate:
            await upgrade_async(urls.database_url)
        engine = create_engine(urls.database_url, pool_size=pool_size)
        try:
            container = build_container(settings, engine)
            try:
                yield container
            finally:
                await container.aclose()
        finally:
            await engine.dispose()

"""Alembic, driven from code: no alembic.ini, the script location is inside the package."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from walletflow.db.engine import asyncpg_url, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Percent signs in URLs would be read as interpolation by ConfigParser.
    config.set_main_option("sqlalchemy.url", asyncpg_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Apply migrations up to `revision` (blocking; runs its own event loop). Areas of the
    schema may branch from a common revision; "heads" applies every branch."""
    command.upgrade(alembic_config(database_url), revision)


def head_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config("postgresql://localhost/unused"))
    heads = frozenset(script.get_heads())
    assert heads, "no migrations found"
    return heads


def head_revision() -> str:
    """The heads as one stable string (sorted, comma-separated) for reports."""
    return ",".join(sorted(head_revisions()))


async def current_revisions(database_url: str) -> frozenset[str]:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_heads)
    finally:
        await engine.dispose()


async def current_revision(database_url: str) -> str | None:
    """The applied heads as one stable string, or None on an empty database."""
    heads = await current_revisions(database_url)
    return ",".join(sorted(heads)) if heads else None


def _current_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def upgrade_async(database_url: str) -> None:
    """Apply migrations from async code without blocking the event loop."""
    await asyncio.to_thread(upgrade, database_url)

"""Migrations are the schema: applying them twice is a no-op and they match the table code."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.db.migrate import current_revision, head_revision, upgrade_async
from walletflow.db.tables import metadata


async def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    await upgrade_async(database_url)
    await upgrade_async(database_url)
    assert await current_revision(database_url) == head_revision()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_produce_exactly_the_tables_the_code_declares(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []

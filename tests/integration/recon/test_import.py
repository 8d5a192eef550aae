"""Statement import against the real PostgreSQL: idempotent forever, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.recon.formats import parse_statement
from walletflow.recon.store import import_statement

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recon"
ACCOUNT = "banks:gtb:NGN"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(sa.text("select count(*) from recon_lines")) or 0)


async def test_a_file_imported_twice_is_counted_once(engine: AsyncEngine) -> None:
    statement = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.camt053.xml").read_bytes())
    first = await import_statement(engine, statement, account=ACCOUNT, actor="t", now=NOW)
    second = await import_statement(engine, statement, account=ACCOUNT, actor="t", now=NOW)
    assert (first.new_lines, first.duplicate_lines) == (3, 0)
    assert (second.new_lines, second.file_already_imported) == (0, True)
    assert await _count(engine) == 3


async def test_a_line_in_overlapping_files_is_counted_once(engine: AsyncEngine) -> None:
    notification = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.camt054.xml").read_bytes())
    mt940 = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.mt940").read_bytes())
    camt = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.camt053.xml").read_bytes())
    a = await import_statement(engine, notification, account=ACCOUNT, actor="t", now=NOW)
    b = await import_statement(engine, camt, account=ACCOUNT, actor="t", now=NOW)
    c = await import_statement(engine, mt940, account=ACCOUNT, actor="t", now=NOW)
    assert (a.new_lines, b.new_lines, b.duplicate_lines) == (1, 2, 1)
    assert await _count(engine) == 3
    assert (c.new_lines, c.duplicate_lines) == (0, 3)  # MT940 of the same day: same movements


async def test_a_dry_run_counts_and_stores_nothing(engine: AsyncEngine) -> None:
    statement = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.mt940").read_bytes())
    summary = await import_statement(
        engine, statement, account=ACCOUNT, actor="t", now=NOW, dry_run=True
    )
    assert summary.new_lines == 3
    assert await _count(engine) == 0
    async with engine.connect() as connection:
        assert await connection.scalar(sa.text("select count(*) from recon_statements")) == 0

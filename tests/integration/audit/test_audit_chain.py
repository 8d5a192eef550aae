"""The audit trail is append-only in the database and hash-chained: a changed, removed or
forged row is named by `verify` as the first broken link."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.audit.chain import seal, verify
from walletflow.audit.context import RequestInfo, current_request
from walletflow.audit.recorder import AuditEntry, record, record_alone

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _entry(n: int, **overrides: object) -> AuditEntry:
    values: dict[str, object] = {
        "action": "command",
        "outcome": "success",
        "actor": f"op{n}@example.com",
        "role": "operator",
        "command": "createWallet",
        "details": {"n": n},
    }
    values.update(overrides)
    return AuditEntry(**values)  # type: ignore[arg-type]


async def _append(engine: AsyncEngine, count: int) -> None:
    for n in range(count):
        await record_alone(engine, _entry(n), at=AT)


async def test_entries_carry_the_request_metadata_from_the_context(engine: AsyncEngine) -> None:
    token = current_request.set(RequestInfo("203.0.113.7", "curl/8", "req-1"))
    try:
        await record_alone(engine, _entry(1, break_glass=True), at=AT)
    finally:
        current_request.reset(token)
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM audit_log"))).one()
    assert (row.source_ip, row.user_agent, row.request_id) == ("203.0.113.7", "curl/8", "req-1")
    assert (row.actor, row.break_glass, row.details) == ("op1@example.com", True, {"n": 1})


async def test_an_entry_recorded_in_a_rolled_back_transaction_is_gone(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await record(connection, _entry(1), at=AT)
        await transaction.rollback()
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM audit_log")) == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET outcome = 'failure'", "DELETE FROM audit_log"],
)
async def test_the_audit_log_refuses_update_and_delete(engine: AsyncEngine, statement: str) -> None:
    await _append(engine, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as connection:
            await connection.execute(text(statement))


async def test_the_chain_refuses_update_and_delete(engine: AsyncEngine) -> None:
    await _append(engine, 1)
    assert await seal(engine) == 1
    for statement in ("UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))


async def test_an_untouched_trail_verifies(engine: AsyncEngine) -> None:
    await _append(engine, 5)
    assert await seal(engine) == 5
    await _append(engine, 2)
    report = await verify(engine)
    assert report.to_json() == {
        "ok": True,
        "sealedEntries": 5,
        "unsealedEntries": 2,
        "firstBrokenLink": None,
    }
    assert await seal(engine) == 2
    assert (await verify(engine)).sealed_entries == 7


async def _tamper(engine: AsyncEngine, table: str, statement: str) -> None:
    """What a superuser could do: switch the append-only trigger off, rewrite, switch it on."""
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        await connection.execute(text(statement))
        await connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))


async def _ids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        return list((await connection.scalars(text("SELECT id FROM audit_log ORDER BY id"))).all())


async def test_a_rewritten_entry_is_the_first_broken_link(engine: AsyncEngine) -> None:
    await _append(engine, 5)
    await seal(engine)
    third = (await _ids(engine))[2]
    await _tamper(
        engine, "audit_log", f"UPDATE audit_log SET outcome = 'failure' WHERE id = {third}"
    )
    report = await verify(engine)
    assert report.first_broken_link is not None
    assert report.first_broken_link.to_json() == {
        "seq": 3,
        "entryId": third,
        "reason": f"audit entry {third}: content does not match its sealed hash",
    }
    assert report.sealed_entries == 2


async def test_a_rewritten_detail_is_detected(engine: AsyncEngine) -> None:
    await _append(engine, 3)
    await seal(engine)
    first = (await _ids(engine))[0]
    await _tamper(
        engine,
        "audit_log",
        f"""UPDATE audit_log SET details = '{{"n": 99}}' WHERE id = {first}""",
    )
    broken = (await verify(engine)).first_broken_link
    assert broken is not None and (broken.seq, broken.entry_id) == (1, first)


async def test_a_deleted_entry_is_the_first_broken_link(engine: AsyncEngine) -> None:
    await _append(engine, 4)
    await seal(engine)
    second = (await _ids(engine))[1]
    await _tamper(engine, "audit_chain", f"DELETE FROM audit_chain WHERE entry_id = {second}")
    await _tamper(engine, "audit_log", f"DELETE FROM audit_log WHERE id = {second}")
    broken = (await verify(engine)).first_broken_link
    assert broken is not None
    assert (broken.seq, broken.reason) == (2, "chain link 2 is missing")


async def test_a_re_hashed_link_still_breaks_the_next_one(engine: AsyncEngine) -> None:
    """Rewriting a row and its own link is not enough: the next link covers the old hash."""
    await _append(engine, 3)
    await seal(engine)
    first = (await _ids(engine))[0]
    await _tamper(
        engine, "audit_chain", "UPDATE audit_chain SET hash = repeat('f', 64) WHERE seq = 1"
    )
    broken = (await verify(engine)).first_broken_link
    assert broken is not None and broken.seq == 1 and broken.entry_id == first


async def test_concurrent_writers_are_chained_once_each_in_one_order(
    engine: AsyncEngine,
) -> None:
    async def writer(n: int) -> None:
        for i in range(10):
            await record_alone(engine, _entry(n * 100 + i), at=AT)

    sealing = asyncio.gather(*(writer(n) for n in range(4)), *(seal(engine) for _ in range(3)))
    await sealing
    await seal(engine)
    report = await verify(engine)
    assert (report.ok, report.sealed_entries, report.unsealed_entries) == (True, 40, 0)

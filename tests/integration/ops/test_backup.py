"""`walletflow backup`: a live system backed up, restored into a new database and proven intact;
damaged or lying backups and non-empty targets refused. Real PostgreSQL, real pg_dump/pg_restore.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.databases import drop_database
from walletflow.bootstrap import Container, build_container
from walletflow.config import load_settings
from walletflow.db.engine import create_engine, plain_url, with_database
from walletflow.domain.principals import SYSTEM_CLI
from walletflow.ledger.pg import PostgresLedger
from walletflow.ops.backup import create_backup, restore_backup, verify_backup
from walletflow.ops.errors import (
    BackupExists,
    DatabaseExists,
    DatabaseNotEmpty,
    DumpMismatch,
    ManifestInvalid,
)
from walletflow.ops.manifest import Manifest, manifest_path_for
from walletflow.reporting.gates import run_gates
from walletflow.seeds import seed_demo

_names = itertools.count()
LATE_PAYIN_KEY = "backup-test-late-payin"
LATE_PAYIN = {
    "merchant_id": "acme",
    "currency": "NGN",
    "amount": "1075.00",
    "fee": "50.00",
    "vat": "25.00",
    "provider": "sandbox",
    "provider_reference": "backup-late-1",
}
RESTORE_CHECKS = ["dump", "pg_restore", "manifest", "ledger_verify", "gates"]


@pytest.fixture
async def live_system(container: Container, engine: AsyncEngine) -> Container:
    """The demo world through the command bus, the chain sealed, then one pay-in unsealed."""
    await seed_demo(container)
    assert await PostgresLedger(engine).seal() > 0
    await container.bus.execute("postPayin", LATE_PAYIN, SYSTEM_CLI, LATE_PAYIN_KEY)
    return container


@pytest.fixture
async def new_database_url(pg_server_url: str) -> AsyncIterator[str]:
    """The URL of a database that does not exist yet (dropped afterwards if made)."""
    url = with_database(pg_server_url, f"wf_restore_{os.getpid()}_{next(_names)}")
    yield url
    await drop_database(pg_server_url, url)


@pytest.fixture
async def empty_database_url(new_database_url: str) -> str:
    admin = create_engine(with_database(new_database_url, "postgres"), pool_size=1)
    try:
        async with admin.connect() as base:
            connection = await base.execution_options(isolation_level="AUTOCOMMIT")
            name = new_database_url.rsplit("/", 1)[1]
            await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        await admin.dispose()
    return new_database_url


@pytest.fixture
async def backup(live_system: Container, database_url: str, tmp_path: Path) -> Path:
    dump_path = tmp_path / "live.dump"
    await create_backup(database_url, dump_path)
    return dump_path


async def _balances(url: str) -> dict[tuple[str, str], int]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT account, asset, sum(input - output) AS balance FROM ledger_volumes "
                    "GROUP BY account, asset"
                )
            )
            return {(row.account, row.asset): int(row.balance) for row in rows}
    finally:
        await engine.dispose()


async def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            names = (
                await connection.scalars(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                    )
                )
            ).all()
            counts = {}
            for name in names:
                counts[name] = int(await connection.scalar(text(f'SELECT count(*) FROM "{name}"')))
            return counts
    finally:
        await engine.dispose()


async def _relations(url: str) -> int:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            return int(
                await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                    )
                )
            )
    finally:
        await engine.dispose()


def _forge(manifest_path: Path, edit: Any) -> None:
    """Edit a manifest and re-digest it, as someone who knows the format would."""
    raw = json.loads(manifest_path.read_text())
    edit(raw)
    body = {key: value for key, value in raw.items() if key != "manifestSha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    raw["manifestSha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    manifest_path.write_text(json.dumps(raw))


async def test_restore_into_a_new_database_reproduces_every_balance_and_row(
    backup: Path, live_system: Container, database_url: str, new_database_url: str
) -> None:
    manifest = Manifest.read(manifest_path_for(backup))
    assert manifest.state.chain_head is not None
    assert manifest.state.unsealed_transactions == 1
    assert all(totals.foot_minor == 0 for totals in manifest.state.assets.values())

    report = await restore_backup(backup, new_database_url, create=True)

    assert report.ok, report.to_json()
    assert [check.name for check in report.checks] == RESTORE_CHECKS
    assert await _balances(new_database_url) == await _balances(database_url)
    # The restore's gates brought the statements read model up to date; so do they here.
    async with live_system.engine.begin() as connection:
        assert all(gate.ok for gate in await run_gates(connection, live_system.templates))
    assert await _row_counts(new_database_url) == await _row_counts(database_url)
    ledger_check = next(check for check in report.checks if check.name == "ledger_verify")
    assert ledger_check.detail["sealedEntries"] == manifest.state.chain_head.seq


async def test_a_replay_against_the_restored_database_returns_the_stored_result(
    backup: Path, new_database_url: str
) -> None:
    assert (await restore_backup(backup, new_database_url, create=True)).ok
    engine = create_engine(new_database_url, pool_size=2)
    try:
        restored = build_container(load_settings({}), engine)
        before = await _balances(new_database_url)
        outcome = await restored.bus.execute("postPayin", LATE_PAYIN, SYSTEM_CLI, LATE_PAYIN_KEY)
        assert outcome.replayed
        assert await _balances(new_database_url) == before
    finally:
        await engine.dispose()


async def test_a_backup_taken_while_money_moves_is_one_consistent_snapshot(
    live_system: Container, database_url: str, new_database_url: str, tmp_path: Path
) -> None:
    done = asyncio.Event()

    async def keep_paying_in() -> int:
        count = 0
        while not done.is_set() and count < 200:
            raw = {**LATE_PAYIN, "provider_reference": f"during-backup-{count}"}
            await live_system.bus.execute("postPayin", raw, SYSTEM_CLI, f"during-{count}")
            count += 1
        return count

    async def back_up() -> None:
        try:
            await create_backup(database_url, tmp_path / "moving.dump")
        finally:
            done.set()

    writer = asyncio.create_task(keep_paying_in())
    await back_up()
    assert await writer > 0

    report = await restore_backup(tmp_path / "moving.dump", new_database_url, create=True)
    assert report.ok, report.failed


async def test_a_damaged_dump_is_refused_and_the_target_stays_empty(
    backup: Path, empty_database_url: str
) -> None:
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.write_bytes(bytes(data))

    with pytest.raises(DumpMismatch, match="checksum"):
        await verify_backup(backup)
    with pytest.raises(DumpMismatch) as refused:
        await restore_backup(backup, empty_database_url)
    assert refused.value.code == "BACKUP_DUMP_MISMATCH"
    assert await _relations(empty_database_url) == 0


async def test_a_truncated_dump_is_refused(backup: Path) -> None:
    backup.write_bytes(backup.read_bytes()[:-100])
    with pytest.raises(DumpMismatch, match="bytes"):
        await verify_backup(backup)


async def test_an_edited_manifest_is_refused_before_anything_is_restored(
    backup: Path, empty_database_url: str
) -> None:
    manifest_path = manifest_path_for(backup)
    raw = json.loads(manifest_path.read_text())
    raw["tables"]["public.ledger_postings"] += 1
    manifest_path.write_text(json.dumps(raw))

    with pytest.raises(ManifestInvalid, match="digest"):
        await verify_backup(backup)
    with pytest.raises(ManifestInvalid):
        await restore_backup(backup, empty_database_url)
    assert await _relations(empty_database_url) == 0


async def test_a_manifest_that_lies_about_the_data_fails_the_restore_and_names_it(
    backup: Path, new_database_url: str
) -> None:
    def lie(raw: dict[str, Any]) -> None:
        raw["tables"]["public.ledger_postings"] += 1
        raw["assets"]["NGN/2"]["heldMinor"] += 100

    _forge(manifest_path_for(backup), lie)
    assert (await verify_backup(backup)).ok  # the file checks alone cannot see a forgery

    report = await restore_backup(backup, new_database_url, create=True)

    assert not report.ok
    assert report.failed == ["manifest"]
    differences = report.checks[2].detail["differences"]
    assert any("public.ledger_postings" in line for line in differences)
    assert any("NGN/2" in line for line in differences)


async def test_restore_into_a_non_empty_database_is_refused_and_changes_nothing(
    backup: Path, database_url: str
) -> None:
    before = await _row_counts(database_url)
    with pytest.raises(DatabaseNotEmpty) as refused:
        await restore_backup(backup, database_url)
    assert refused.value.code == "DATABASE_NOT_EMPTY"
    assert await _row_counts(database_url) == before


async def test_restore_create_refuses_a_database_that_exists(
    backup: Path, empty_database_url: str
) -> None:
    with pytest.raises(DatabaseExists):
        await restore_backup(backup, empty_database_url, create=True)


async def test_verify_tells_a_database_that_moved_on_from_one_whose_history_changed(
    backup: Path, live_system: Container, database_url: str, engine: AsyncEngine
) -> None:
    assert (await verify_backup(backup, database_url=database_url)).ok

    more = {**LATE_PAYIN, "provider_reference": "after-backup"}
    await live_system.bus.execute("postPayin", more, SYSTEM_CLI, "after-backup")
    await PostgresLedger(engine).seal()
    exact = await verify_backup(backup, database_url=database_url)
    assert exact.failed == ["manifest"]
    assert (await verify_backup(backup, database_url=database_url, allow_newer=True)).ok

    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(
            text("UPDATE ledger_postings SET amount = amount + 1 WHERE tx_id = 1 AND ordinal = 1")
        )
    rewritten = await verify_backup(backup, database_url=database_url, allow_newer=True)
    assert "ledger_verify" in rewritten.failed


def _walletflow(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walletflow", "backup", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": plain_url(database_url)},
        timeout=300,
        check=False,
    )


async def test_the_cli_round_trip_exits_zero_and_a_lie_exits_one_naming_the_check(
    live_system: Container, database_url: str, new_database_url: str, tmp_path: Path
) -> None:
    dump_path = tmp_path / "cli.dump"
    created = _walletflow(database_url, "create", "--out", str(dump_path))
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["dump"]["sha256"]

    verified = _walletflow(database_url, "verify", str(dump_path))
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"]

    _forge(manifest_path_for(dump_path), lambda raw: raw.update(schemaRevision="0000_other"))
    restored = _walletflow(
        database_url, "restore", str(dump_path), "--database-url", new_database_url, "--create"
    )
    assert restored.returncode == 1
    assert json.loads(restored.stdout)["failed"] == ["manifest"]
    assert "backup restore failed: manifest" in restored.stderr

    again = _walletflow(database_url, "restore", str(dump_path), "--database-url", database_url)
    assert again.returncode == 1
    assert json.loads(again.stdout)["error"]["code"] == "DATABASE_NOT_EMPTY"


async def test_create_never_overwrites_a_backup(backup: Path, database_url: str) -> None:
    before = backup.read_bytes()
    with pytest.raises(BackupExists):
        await create_backup(database_url, backup)
    assert backup.read_bytes() == before

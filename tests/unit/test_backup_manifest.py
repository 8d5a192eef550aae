"""The backup manifest and the choice of pg_dump/pg_restore, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from walletflow.ops.errors import BackupToolMissing, ManifestInvalid
from walletflow.ops.manifest import (
    AssetTotals,
    ChainHead,
    DatabaseState,
    DumpFile,
    Manifest,
    manifest_path_for,
)
from walletflow.ops.pg_tools import candidates, find_tool, libpq_target, parse_major, tool_major

STATE = DatabaseState(
    schema_revision="0007_merge_areas",
    tables={"public.ledger_postings": 29, "public.ledger_log": 16},
    chain_head=ChainHead(seq=16, tx_id=16, hash="ab" * 32),
    unsealed_transactions=1,
    assets={
        "NGN/2": AssetTotals(postings=11, moved_minor=5_042_550_000, held_minor=7, foot_minor=0)
    },
    balance_rows=29,
    balances_sha256="cd" * 32,
)
MANIFEST = Manifest(
    created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    walletflow_version="0.1.0",
    database="walletflow",
    server_version="15.20",
    server_major=15,
    dump=DumpFile(name="a.dump", size_bytes=70_532, sha256="ef" * 32),
    state=STATE,
)


def test_a_manifest_reads_back_as_written(tmp_path: Path) -> None:
    path = tmp_path / "a.dump.manifest.json"
    MANIFEST.write(path)
    assert Manifest.read(path) == MANIFEST
    assert manifest_path_for(tmp_path / "a.dump") == path


@pytest.mark.parametrize(
    ("field", "value"),
    [("schemaRevision", "0001"), ("walletflowVersion", "9.9.9"), ("createdAt", "2030-01-01")],
)
def test_a_manifest_edited_without_its_digest_is_refused(field: str, value: str) -> None:
    raw = MANIFEST.to_json()
    raw[field] = value
    with pytest.raises(ManifestInvalid, match="digest"):
        Manifest.from_json(raw)


def test_a_manifest_of_another_format_or_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestInvalid, match="format"):
        Manifest.from_json({**MANIFEST.to_json(), "format": "other/2"})
    with pytest.raises(ManifestInvalid, match="JSON object"):
        Manifest.from_json([1, 2])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ManifestInvalid, match="not JSON"):
        Manifest.read(broken)
    with pytest.raises(ManifestInvalid, match="cannot read"):
        Manifest.read(tmp_path / "missing.json")


def test_differences_name_each_table_asset_and_the_chain_head() -> None:
    other = DatabaseState(
        schema_revision=STATE.schema_revision,
        tables={**STATE.tables, "public.ledger_postings": 28},
        chain_head=ChainHead(seq=15, tx_id=15, hash="00" * 32),
        unsealed_transactions=1,
        assets={"NGN/2": AssetTotals(postings=11, moved_minor=1, held_minor=7, foot_minor=0)},
        balance_rows=29,
        balances_sha256=STATE.balances_sha256,
    )
    differences = STATE.differences(other)
    assert len(differences) == 3
    assert "public.ledger_postings: 28 rows, expected 29" in differences[0]
    assert "ledger chain head seq 15" in differences[1]
    assert differences[2].startswith("asset NGN/2")
    assert STATE.differences(STATE) == []


def test_a_successor_must_keep_the_chain_head_and_every_append_only_row() -> None:
    grown = DatabaseState(
        **{**STATE.__dict__, "tables": {"public.ledger_postings": 40, "public.ledger_log": 20}}
    )
    assert STATE.successor_differences(grown, head_present=True) == []
    assert "does not contain the backup's head" in STATE.successor_differences(grown, False)[0]
    shrunk = DatabaseState(**{**STATE.__dict__, "tables": {"public.ledger_postings": 3}})
    assert any("fewer than" in line for line in STATE.successor_differences(shrunk, True))


def test_the_major_version_is_read_from_the_tools_version_line() -> None:
    assert parse_major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == 15
    assert parse_major("pg_restore (PostgreSQL) 18.4") == 18
    assert parse_major("something else") is None


def test_a_password_travels_in_the_environment_never_on_the_command_line() -> None:
    target = libpq_target("postgresql+asyncpg://walletflow:s3cret@db:5432/walletflow?sslmode=x")
    assert target.url == "postgresql://walletflow@db:5432/walletflow?sslmode=x"
    assert target.env["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in target.url
    assert libpq_target("postgresql://postgres@/w?host=/tmp/pg").url == (
        "postgresql://postgres@/w?host=/tmp/pg"
    )


def test_each_tool_found_is_chosen_only_for_its_own_major_version() -> None:
    for name in ("pg_dump", "pg_restore"):
        majors = {tool_major(path) for path in candidates(name)} - {None}
        for major in majors:
            assert major is not None
            assert tool_major(find_tool(name, major)) == major


def test_no_tool_of_the_servers_version_is_a_typed_refusal_listing_what_was_found() -> None:
    with pytest.raises(BackupToolMissing) as missing:
        find_tool("pg_dump", 99)
    assert missing.value.code == "BACKUP_TOOL_MISSING"
    assert missing.value.details["serverMajor"] == 99
    assert set(missing.value.details["found"]) == {str(p) for p in candidates("pg_dump")}

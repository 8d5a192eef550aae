"""Back up a walletflow database, verify a backup, restore it and prove the restore intact.

create   One REPEATABLE READ, read-only transaction exports its snapshot; `pg_dump -Fc
         --snapshot` writes that snapshot while the same transaction reads the manifest facts
         (see `manifest.py`), so dump and manifest describe one instant of a live system. Both
         files are written under a `.partial` name and renamed when complete; nothing is ever
         overwritten.
verify   The manifest must match its own digest; the dump its size and sha256, and its table of
         contents must list every table the manifest counts. With a database, that database is
         compared with the manifest (exactly, or with `allow_newer` as a database that moved on
         from it: the backup's chain head still in its chain, no fewer rows in append-only
         tables), its ledger verified and the gates run.
restore  Refuses a non-empty target (`DATABASE_NOT_EMPTY`) and a dump that fails `verify`;
         runs `pg_restore --single-transaction --exit-on-error` (all or nothing); then the
         restored database must equal the manifest, its ledger verify (hash chain from genesis,
         volumes = postings) must pass and the four gates must be green. The report names every
         check that failed. A restored database that fails a check is left for inspection: do not
         put it in service.

pg_dump / pg_restore are those of the server's major version (`pg_tools.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow import __version__
from walletflow.db.engine import create_engine, with_database
from walletflow.domain.errors import ValidationError
from walletflow.ledger.templates import TemplateCatalog
from walletflow.ops.errors import (
    BackupExists,
    DatabaseExists,
    DatabaseNotEmpty,
    DumpMismatch,
)
from walletflow.ops.manifest import (
    DatabaseState,
    DumpFile,
    Manifest,
    chain_contains,
    file_sha256,
    manifest_path_for,
    read_state,
)
from walletflow.ops.pg_tools import find_tool, libpq_target, run_tool, server_major

PARTIAL_SUFFIX = ".partial"
MAINTENANCE_DATABASE = "postgres"
EMPTY_CHECK_SAMPLE = 5
_TOC_TABLE_DATA_RE = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ", re.MULTILINE)

_USER_RELATIONS_SQL = """
SELECT n.nspname || '.' || c.relname AS name, count(*) OVER () AS total
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1 LIMIT :sample
"""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Report:
    """The outcome of `verify` or `restore`: every check, in the order they ran."""

    action: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "ok": self.ok,
            "failed": self.failed,
            "checks": [check.to_json() for check in self.checks],
        }


# -- create ------------------------------------------------------------------------------------


async def create_backup(
    database_url: str, dump_path: Path, *, now: datetime | None = None
) -> Manifest:
    """Dump the database to `dump_path` (custom format) and write its manifest beside it."""
    manifest_path = manifest_path_for(dump_path)
    for path in (dump_path, manifest_path):
        if path.exists():
            raise BackupExists(f"{path} exists; a backup never overwrites a file")
    dump_partial = dump_path.with_name(dump_path.name + PARTIAL_SUFFIX)
    manifest_partial = manifest_path.with_name(manifest_path.name + PARTIAL_SUFFIX)
    dump_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as base:
            connection = await base.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with connection.begin():
                await connection.execute(text("SET LOCAL statement_timeout = 0"))
                snapshot = str(await connection.scalar(text("SELECT pg_export_snapshot()")))
                major = await server_major(connection)
                version = str(await connection.scalar(text("SHOW server_version")))
                database = str(await connection.scalar(text("SELECT current_database()")))
                pg_dump = find_tool("pg_dump", major)
                target = libpq_target(database_url)
                await run_tool(
                    [
                        str(pg_dump),
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={dump_partial}",
                        f"--dbname={target.url}",
                    ],
                    target.env,
                )
                state = await read_state(connection)
        manifest = Manifest(
            created_at=now or datetime.now(UTC),
            walletflow_version=__version__,
            database=database,
            server_version=version,
            server_major=major,
            dump=DumpFile(
                name=dump_path.name,
                size_bytes=dump_partial.stat().st_size,
                sha256=file_sha256(dump_partial),
            ),
            state=state,
        )
        manifest.write(manifest_partial)
        dump_partial.rename(dump_path)
        manifest_partial.rename(manifest_path)
        return manifest
    finally:
        for partial in (dump_partial, manifest_partial):
            partial.unlink(missing_ok=True)
        await engine.dispose()


# -- verify ------------------------------------------------------------------------------------


async def check_dump(manifest: Manifest, dump_path: Path, pg_restore: Path) -> Check:
    """Raise DumpMismatch unless the dump is the one the manifest describes, whole."""
    if not dump_path.is_file():
        raise DumpMismatch(f"dump file {dump_path} not found", details={"path": str(dump_path)})
    size_bytes = dump_path.stat().st_size
    if size_bytes != manifest.dump.size_bytes:
        raise DumpMismatch(
            f"dump is {size_bytes} bytes, the manifest says {manifest.dump.size_bytes}",
            details={"sizeBytes": size_bytes, "expected": manifest.dump.size_bytes},
        )
    sha256 = file_sha256(dump_path)
    if sha256 != manifest.dump.sha256:
        raise DumpMismatch(
            "dump checksum differs from the manifest (damaged or altered)",
            details={"sha256": sha256, "expected": manifest.dump.sha256},
        )
    toc = await run_tool([str(pg_restore), "--list", str(dump_path)])
    listed = {f"{schema}.{table}" for schema, table in _TOC_TABLE_DATA_RE.findall(toc)}
    unlisted = sorted(set(manifest.state.tables) - listed)
    if unlisted:
        raise DumpMismatch(
            f"the dump holds no data for {len(unlisted)} table(s) the manifest counts",
            details={"tables": unlisted[:50]},
        )
    return Check(
        "dump",
        True,
        {"file": str(dump_path), "sizeBytes": size_bytes, "sha256": sha256, "tables": len(listed)},
    )


async def verify_backup(
    dump_path: Path,
    *,
    manifest_path: Path | None = None,
    database_url: str | None = None,
    allow_newer: bool = False,
    templates: TemplateCatalog | None = None,
) -> Report:
    """Check the dump against its manifest; with `database_url`, that database too."""
    manifest = Manifest.read(manifest_path or manifest_path_for(dump_path))
    checks = [await check_dump(manifest, dump_path, find_tool("pg_restore", manifest.server_major))]
    if database_url is not None:
        engine = create_engine(database_url, pool_size=2)
        try:
            checks += await check_database(
                engine, manifest, exact=not allow_newer, templates=templates
            )
        finally:
            await engine.dispose()
    return Report("verify", tuple(checks))


async def check_database(
    engine: AsyncEngine,
    manifest: Manifest,
    *,
    exact: bool = True,
    templates: TemplateCatalog | None = None,
) -> list[Check]:
    """Compare a database with the manifest (first: the gates may write statements), then
    verify its ledger and run the gates."""
    async with engine.connect() as base:
        connection = await base.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with connection.begin():
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            state = await read_state(connection)
            head = manifest.state.chain_head
            head_present = head is None or await chain_contains(connection, head)
    checks = [_manifest_check(manifest.state, state, exact=exact, head_present=head_present)]
    checks.append(await _ledger_check(engine))
    checks.append(await _gates_check(engine, templates or TemplateCatalog()))
    return checks


def _manifest_check(
    expected: DatabaseState, actual: DatabaseState, *, exact: bool, head_present: bool
) -> Check:
    if exact:
        differences = expected.differences(actual)
    else:
        differences = expected.successor_differences(actual, head_present)
    return Check(
        "manifest",
        not differences,
        {
            "mode": "exact" if exact else "newer",
            "differences": differences,
            "chainHead": actual.chain_head.to_json() if actual.chain_head else None,
            "tables": len(actual.tables),
            "rows": sum(actual.tables.values()),
        },
    )


async def _ledger_check(engine: AsyncEngine) -> Check:
    """`walletflow ledger verify --no-seal`: the hash chain from genesis, volumes = postings.
    Nothing is sealed, so the restored log stays the one the manifest describes."""
    from walletflow.ledger.pg import PostgresLedger

    report = await PostgresLedger(engine).verify()
    return Check("ledger_verify", report.ok, report.to_json())


async def _gates_check(engine: AsyncEngine, templates: TemplateCatalog) -> Check:
    from walletflow.reporting.gates import run_gates

    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        results = await run_gates(connection, templates)
    return Check(
        "gates",
        all(result.ok for result in results),
        {
            "gates": {result.name: "green" if result.ok else "red" for result in results},
            "red": [result.to_json() for result in results if not result.ok],
        },
    )


# -- restore -----------------------------------------------------------------------------------


def database_name(database_url: str) -> str:
    name = unquote(urlparse(database_url).path.lstrip("/"))
    if not name:
        raise ValidationError(
            "the database URL names no database", field_errors={"database-url": "database"}
        )
    return name


async def create_database(database_url: str) -> None:
    """CREATE DATABASE the URL names (from template0, so it is empty); refuse if it exists."""
    name = database_name(database_url)
    admin = create_engine(with_database(database_url, MAINTENANCE_DATABASE), pool_size=1)
    try:
        async with admin.connect() as base:
            connection = await base.execution_options(isolation_level="AUTOCOMMIT")
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists:
                raise DatabaseExists(
                    f"database {name!r} exists; restore --create makes a new one",
                    details={"database": name},
                )
            quoted = '"' + name.replace('"', '""') + '"'
            await connection.execute(text(f"CREATE DATABASE {quoted} TEMPLATE template0"))
    finally:
        await admin.dispose()


async def ensure_empty(connection: AsyncConnection) -> None:
    rows = (
        await connection.execute(text(_USER_RELATIONS_SQL), {"sample": EMPTY_CHECK_SAMPLE})
    ).all()
    if rows:
        database = str(await connection.scalar(text("SELECT current_database()")))
        total = int(rows[0].total)
        raise DatabaseNotEmpty(
            f"database {database!r} is not empty ({total} relations, e.g. {rows[0].name}); "
            "restore into an empty database",
            details={"database": database, "relations": total, "sample": [r.name for r in rows]},
        )


async def _probe_server_major(database_url: str, *, require_empty: bool) -> int:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            if require_empty:
                await ensure_empty(connection)
            return await server_major(connection)
    finally:
        await engine.dispose()


async def restore_backup(
    dump_path: Path,
    database_url: str,
    *,
    manifest_path: Path | None = None,
    create: bool = False,
    templates: TemplateCatalog | None = None,
) -> Report:
    """Restore a verified dump into an empty database, then prove the result intact."""
    manifest = Manifest.read(manifest_path or manifest_path_for(dump_path))
    probe_url = with_database(database_url, MAINTENANCE_DATABASE) if create else database_url
    major = await _probe_server_major(probe_url, require_empty=not create)
    pg_restore = find_tool("pg_restore", major)
    checks = [await check_dump(manifest, dump_path, pg_restore)]
    if create:
        await create_database(database_url)
    engine = create_engine(database_url, pool_size=2)
    try:
        async with engine.connect() as connection:
            await ensure_empty(connection)
        target = libpq_target(database_url)
        await run_tool(
            [
                str(pg_restore),
                "--exit-on-error",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                f"--dbname={target.url}",
                str(dump_path),
            ],
            target.env,
        )
        checks.append(Check("pg_restore", True, {"database": database_name(database_url)}))
        checks += await check_database(engine, manifest, exact=True, templates=templates)
        # pg_restore leaves the planner without statistics: gather them before first use.
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL statement_timeout = 0"))
            await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return Report("restore", tuple(checks))

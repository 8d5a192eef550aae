"""What a backup asserts about its database, and the comparison of a database with it.

A manifest records, for one database snapshot (the same snapshot pg_dump writes):
- the row count of every table;
- the ledger's hash-chain head (the last sealed `ledger_log` entry: seq, transaction, hash), and
  how many transactions were not yet sealed;
- per asset, from the postings: how many, the amount moved, the sum of positive balances (money
  held) and the sum of all balances (zero when the books foot);
- a sha256 over every (account, asset, balance) from the postings, so a restore proves every
  balance without listing them;
- the dump file's name, size and sha256;
- `manifestSha256`, a digest of everything above, so an edited or truncated manifest is refused
  before it is trusted. (It guards against corruption and careless edits; the restore's
  comparison with the restored data and the ledger's own hash chain guard against the rest.)

The state is read with plain SQL on the ledger tables (see db/schema_ledger.py), not through the
ledger's internals, so it describes the rows as they are in the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.ops.errors import ManifestInvalid, NotAWalletflowDatabase

MANIFEST_FORMAT = "walletflow-backup/1"
MANIFEST_SUFFIX = ".manifest.json"
MAX_DIFFERENCES = 50
HASH_CHUNK_BYTES = 1 << 20
LEDGER_TABLES = ("ledger_transactions", "ledger_postings", "ledger_volumes", "ledger_log")
# Tables that only ever grow (triggers refuse UPDATE/DELETE, or nothing deletes from them): a
# database that moved on from a backup has at least the backup's rows in each.
APPEND_ONLY_TABLES = ("public.ledger_transactions", "public.ledger_postings", "public.ledger_log")

_TABLES_SQL = """
SELECT n.nspname AS schema_name, c.relname AS table_name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1, 2
"""

_ASSETS_SQL = """
SELECT asset, count(*) AS postings, sum(amount) AS moved
  FROM ledger_postings GROUP BY asset ORDER BY asset COLLATE "C"
"""

_BALANCES_SQL = """
SELECT account, asset, sum(delta) AS balance FROM (
    SELECT destination AS account, asset, amount AS delta FROM ledger_postings
    UNION ALL
    SELECT source, asset, -amount FROM ledger_postings) x
 GROUP BY account, asset
 ORDER BY account COLLATE "C", asset COLLATE "C"
"""


def manifest_path_for(dump_path: Path) -> Path:
    return dump_path.with_name(dump_path.name + MANIFEST_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ChainHead:
    seq: int
    tx_id: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "txId": self.tx_id, "hash": self.hash}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ChainHead:
        return cls(seq=int(raw["seq"]), tx_id=int(raw["txId"]), hash=str(raw["hash"]))


@dataclass(frozen=True)
class AssetTotals:
    postings: int
    moved_minor: int
    held_minor: int
    foot_minor: int

    def to_json(self) -> dict[str, int]:
        return {
            "postings": self.postings,
            "movedMinor": self.moved_minor,
            "heldMinor": self.held_minor,
            "footMinor": self.foot_minor,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AssetTotals:
        return cls(
            postings=int(raw["postings"]),
            moved_minor=int(raw["movedMinor"]),
            held_minor=int(raw["heldMinor"]),
            foot_minor=int(raw["footMinor"]),
        )


@dataclass(frozen=True)
class DatabaseState:
    """The facts a manifest asserts about a database, read in one snapshot."""

    schema_revision: str | None
    tables: dict[str, int]
    chain_head: ChainHead | None
    unsealed_transactions: int
    assets: dict[str, AssetTotals]
    balance_rows: int
    balances_sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaRevision": self.schema_revision,
            "tables": dict(sorted(self.tables.items())),
            "ledgerChain": {
                "head": self.chain_head.to_json() if self.chain_head else None,
                "unsealedTransactions": self.unsealed_transactions,
            },
            "assets": {asset: totals.to_json() for asset, totals in sorted(self.assets.items())},
            "balances": {"rows": self.balance_rows, "sha256": self.balances_sha256},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DatabaseState:
        chain = raw["ledgerChain"]
        head = chain["head"]
        return cls(
            schema_revision=raw["schemaRevision"],
            tables={str(name): int(count) for name, count in raw["tables"].items()},
            chain_head=ChainHead.from_json(head) if head is not None else None,
            unsealed_transactions=int(chain["unsealedTransactions"]),
            assets={str(a): AssetTotals.from_json(t) for a, t in raw["assets"].items()},
            balance_rows=int(raw["balances"]["rows"]),
            balances_sha256=str(raw["balances"]["sha256"]),
        )

    def differences(self, actual: DatabaseState) -> list[str]:
        """How `actual` differs from this (expected) state, one line each, at most
        MAX_DIFFERENCES; empty when they are the same."""
        found: list[str] = []
        if actual.schema_revision != self.schema_revision:
            found.append(
                f"schema revision {actual.schema_revision!r}, expected {self.schema_revision!r}"
            )
        for name in sorted(set(self.tables) | set(actual.tables)):
            expected, got = self.tables.get(name), actual.tables.get(name)
            if expected != got:
                found.append(f"table {name}: {got} rows, expected {expected}")
        if actual.chain_head != self.chain_head:
            found.append(
                f"ledger chain head {_head(actual.chain_head)}, expected {_head(self.chain_head)}"
            )
        if actual.unsealed_transactions != self.unsealed_transactions:
            found.append(
                f"{actual.unsealed_transactions} unsealed transactions, "
                f"expected {self.unsealed_transactions}"
            )
        for asset in sorted(set(self.assets) | set(actual.assets)):
            expected_totals, got_totals = self.assets.get(asset), actual.assets.get(asset)
            if expected_totals != got_totals:
                found.append(
                    f"asset {asset}: {got_totals and got_totals.to_json()}, "
                    f"expected {expected_totals and expected_totals.to_json()}"
                )
        if (actual.balance_rows, actual.balances_sha256) != (
            self.balance_rows,
            self.balances_sha256,
        ):
            found.append(
                f"balances: {actual.balance_rows} rows sha256 {actual.balances_sha256[:16]}…, "
                f"expected {self.balance_rows} rows sha256 {self.balances_sha256[:16]}…"
            )
        return found[:MAX_DIFFERENCES]

    def successor_differences(self, actual: DatabaseState, head_present: bool) -> list[str]:
        """How `actual` fails to be this state moved on: it must carry the same schema
        revision or a later one, this chain head unchanged (`head_present`: the entry at this
        head's seq has this transaction and hash), and at least these rows in every
        append-only table."""
        found: list[str] = []
        if self.chain_head is not None and not head_present:
            found.append(
                f"ledger chain does not contain the backup's head {_head(self.chain_head)}"
            )
        for name in APPEND_ONLY_TABLES:
            expected, got = self.tables.get(name, 0), actual.tables.get(name, 0)
            if got < expected:
                found.append(f"table {name}: {got} rows, fewer than the backup's {expected}")
        return found[:MAX_DIFFERENCES]


def _head(head: ChainHead | None) -> str:
    return "none" if head is None else f"seq {head.seq} tx {head.tx_id} {head.hash[:16]}…"


async def read_state(connection: AsyncConnection) -> DatabaseState:
    """Read the manifest facts on `connection` (run it in one REPEATABLE READ transaction to
    describe one snapshot)."""
    rows = (await connection.execute(text(_TABLES_SQL))).all()
    names = [(str(row.schema_name), str(row.table_name)) for row in rows]
    present = {table for schema, table in names if schema == "public"}
    missing = [table for table in (*LEDGER_TABLES, "alembic_version") if table not in present]
    if missing:
        raise NotAWalletflowDatabase(
            f"not a walletflow database: missing tables {', '.join(missing)}",
            details={"missingTables": missing},
        )
    tables: dict[str, int] = {}
    for schema, table in names:
        qualified = f"{_quote_ident(schema)}.{_quote_ident(table)}"
        tables[f"{schema}.{table}"] = int(
            await connection.scalar(text(f"SELECT count(*) FROM {qualified}")) or 0
        )
    revisions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    head_row = (
        await connection.execute(
            text("SELECT seq, tx_id, hash FROM ledger_log ORDER BY seq DESC LIMIT 1")
        )
    ).first()
    unsealed = int(
        await connection.scalar(
            text(
                "SELECT count(*) FROM ledger_transactions t "
                "WHERE NOT EXISTS (SELECT 1 FROM ledger_log l WHERE l.tx_id = t.id)"
            )
        )
        or 0
    )
    moved = {
        str(row.asset): (int(row.postings), int(row.moved))
        for row in (await connection.execute(text(_ASSETS_SQL))).all()
    }
    held: dict[str, int] = dict.fromkeys(moved, 0)
    foot: dict[str, int] = dict.fromkeys(moved, 0)
    digest = hashlib.sha256()
    balance_rows = 0
    result = await connection.stream(text(_BALANCES_SQL))
    async for row in result:
        asset, balance = str(row.asset), int(row.balance)
        digest.update(f"{row.account}\t{asset}\t{balance}\n".encode())
        balance_rows += 1
        foot[asset] += balance
        held[asset] += max(balance, 0)
    return DatabaseState(
        schema_revision=",".join(sorted(str(row[0]) for row in revisions)) or None,
        tables=tables,
        chain_head=(
            ChainHead(int(head_row.seq), int(head_row.tx_id), str(head_row.hash))
            if head_row is not None
            else None
        ),
        unsealed_transactions=unsealed,
        assets={
            asset: AssetTotals(
                postings=count,
                moved_minor=amount,
                held_minor=held[asset],
                foot_minor=foot[asset],
            )
            for asset, (count, amount) in moved.items()
        },
        balance_rows=balance_rows,
        balances_sha256=digest.hexdigest(),
    )


async def chain_contains(connection: AsyncConnection, head: ChainHead) -> bool:
    """Whether the ledger log still holds this entry unchanged at its seq."""
    row = (
        await connection.execute(
            text("SELECT tx_id, hash FROM ledger_log WHERE seq = :seq"), {"seq": head.seq}
        )
    ).first()
    return row is not None and (int(row.tx_id), str(row.hash)) == (head.tx_id, head.hash)


@dataclass(frozen=True)
class DumpFile:
    name: str
    size_bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "format": "custom",
            "sizeBytes": self.size_bytes,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DumpFile:
        return cls(name=str(raw["file"]), size_bytes=int(raw["sizeBytes"]), sha256=raw["sha256"])


@dataclass(frozen=True)
class Manifest:
    created_at: datetime
    walletflow_version: str
    database: str
    server_version: str
    server_major: int
    dump: DumpFile
    state: DatabaseState

    def body(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "createdAt": self.created_at.isoformat(),
            "walletflowVersion": self.walletflow_version,
            "source": {
                "database": self.database,
                "serverVersion": self.server_version,
                "serverMajor": self.server_major,
            },
            "dump": self.dump.to_json(),
            **self.state.to_json(),
        }

    def to_json(self) -> dict[str, Any]:
        body = self.body()
        return {**body, "manifestSha256": hashlib.sha256(_canonical(body).encode()).hexdigest()}

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, raw: Any) -> Manifest:
        if not isinstance(raw, dict):
            raise ManifestInvalid("the manifest is not a JSON object")
        if raw.get("format") != MANIFEST_FORMAT:
            raise ManifestInvalid(
                f"unknown manifest format {raw.get('format')!r} (expected {MANIFEST_FORMAT})",
                details={"format": raw.get("format")},
            )
        body = {key: value for key, value in raw.items() if key != "manifestSha256"}
        recomputed = hashlib.sha256(_canonical(body).encode()).hexdigest()
        if raw.get("manifestSha256") != recomputed:
            raise ManifestInvalid(
                "the manifest does not match its own digest (edited or damaged)",
                details={"manifestSha256": raw.get("manifestSha256"), "recomputed": recomputed},
            )
        try:
            source = raw["source"]
            return cls(
                created_at=datetime.fromisoformat(raw["createdAt"]),
                walletflow_version=str(raw["walletflowVersion"]),
                database=str(source["database"]),
                server_version=str(source["serverVersion"]),
                server_major=int(source["serverMajor"]),
                dump=DumpFile.from_json(raw["dump"]),
                state=DatabaseState.from_json(raw),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestInvalid(f"the manifest is incomplete: {error!r}") from None

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ManifestInvalid(
                f"cannot read manifest {path}: {error.strerror}", details={"path": str(path)}
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ManifestInvalid(
                f"manifest {path} is not JSON: {error}", details={"path": str(path)}
            ) from None
        return cls.from_json(raw)

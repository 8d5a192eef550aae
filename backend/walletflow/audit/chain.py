"""The audit trail's hash chain: sealed after the fact, verified from the start.

Why sealed later and not at insert. A hash that covers the previous row needs one order of all
rows; computing it at insert would make every command wait for every other on one lock (the
audit row is written inside the command's transaction, so such a lock would be held until the
command commits). Instead writers only INSERT into `audit_log` (each row records its database
transaction id, `xid`), and one sealer at a time (`pg_try_advisory_xact_lock`) appends to
`audit_chain`, in (xid, id) order, every row whose inserting transaction has finished (below
`db.horizon.finished_horizon`). No unfinished transaction can later place a row before the
sealed point, so the order is final and gap-free. Each link's hash is sha256(previous hash ‖
canonical JSON of the whole audit row). Both tables are append-only (triggers).

`verify` walks the chain, recomputes every hash from the rows as they are now and names the
first broken link (a changed row, a missing row, a reordered or forged link). Rows not sealed
yet are counted; the sealer runs from `walletflow audit verify` and from the worker.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.db.horizon import finished_horizon

SEAL_LOCK_KEY = 0x5746_4155_4454  # "WFAUDT"
SEAL_BATCH = 1_000
MAX_SEAL_BATCHES = 1_000
VERIFY_BATCH = 1_000
GENESIS_HASH = "0" * 64

_ENTRY_COLUMNS = (
    "a.id, a.xid, a.at, a.action, a.outcome, a.actor, a.role, a.command, a.merchant_id, "
    "a.error_code, a.idempotency_key, a.request_hash, a.break_glass, a.source_ip, "
    "a.user_agent, a.request_id, a.details"
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def entry_hash(prev_hash: str, row: Row[Any]) -> str:
    """sha256(previous hash ‖ canonical JSON of every column of the audit row)."""
    body = {
        "id": int(row.id),
        "xid": int(row.xid),
        "at": _iso(row.at),
        "action": row.action,
        "outcome": row.outcome,
        "actor": row.actor,
        "role": row.role,
        "command": row.command,
        "merchantId": row.merchant_id,
        "errorCode": row.error_code,
        "idempotencyKey": row.idempotency_key,
        "requestHash": row.request_hash,
        "breakGlass": bool(row.break_glass),
        "sourceIp": row.source_ip,
        "userAgent": row.user_agent,
        "requestId": row.request_id,
        "details": row.details,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    entry_id: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "entryId": self.entry_id, "reason": self.reason}


@dataclass(frozen=True)
class AuditVerifyReport:
    sealed_entries: int
    unsealed_entries: int
    first_broken_link: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.first_broken_link is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "sealedEntries": self.sealed_entries,
            "unsealedEntries": self.unsealed_entries,
            "firstBrokenLink": (
                None if self.first_broken_link is None else self.first_broken_link.to_json()
            ),
        }


async def seal(engine: AsyncEngine, max_batches: int = MAX_SEAL_BATCHES) -> int:
    """Chain every finished, unsealed audit row; return how many. Returns 0 at once when
    another sealer holds the lock."""
    sealed = 0
    for _ in range(max_batches):
        count = await _seal_batch(engine)
        sealed += max(count, 0)
        if count < SEAL_BATCH:
            break
    return sealed


async def _seal_batch(engine: AsyncEngine) -> int:
    async with engine.begin() as connection:
        got = await connection.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEAL_LOCK_KEY}
        )
        if not got:
            return -1
        last = (
            await connection.execute(
                text(
                    "SELECT c.seq, c.entry_xid, c.entry_id, c.hash FROM audit_chain c "
                    "ORDER BY c.seq DESC LIMIT 1"
                )
            )
        ).first()
        seq, after_xid, after_id, prev_hash = (
            (int(last.seq), int(last.entry_xid), int(last.entry_id), str(last.hash))
            if last is not None
            else (0, -1, -1, GENESIS_HASH)
        )
        horizon = await finished_horizon(connection)
        rows = (
            await connection.execute(
                text(
                    f"SELECT {_ENTRY_COLUMNS} FROM audit_log a "
                    "WHERE (a.xid, a.id) > (:after_xid, :after_id) AND a.xid < :horizon "
                    "ORDER BY a.xid, a.id LIMIT :batch"
                ),
                {
                    "after_xid": after_xid,
                    "after_id": after_id,
                    "horizon": horizon,
                    "batch": SEAL_BATCH,
                },
            )
        ).all()
        if not rows:
            return 0
        seqs: list[int] = []
        ids: list[int] = []
        xids: list[int] = []
        prevs: list[str] = []
        hashes: list[str] = []
        for row in rows:
            seq += 1
            digest = entry_hash(prev_hash, row)
            seqs.append(seq)
            ids.append(int(row.id))
            xids.append(int(row.xid))
            prevs.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        await connection.execute(
            text(
                "INSERT INTO audit_chain (seq, entry_id, entry_xid, prev_hash, hash) "
                "SELECT * FROM unnest(CAST(:seqs AS bigint[]), CAST(:ids AS bigint[]), "
                "CAST(:xids AS bigint[]), CAST(:prevs AS text[]), CAST(:hashes AS text[]))"
            ),
            {"seqs": seqs, "ids": ids, "xids": xids, "prevs": prevs, "hashes": hashes},
        )
        return len(rows)


async def verify(engine: AsyncEngine) -> AuditVerifyReport:
    """Walk the chain from the start, recomputing every hash; name the first broken link."""
    broken: BrokenLink | None = None
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    async with engine.connect() as connection:
        while broken is None:
            rows = (
                await connection.execute(
                    text(
                        "SELECT c.seq, c.entry_id AS chained_id, c.entry_xid, c.prev_hash, "
                        f"c.hash AS chained_hash, a.id IS NOT NULL AS present, {_ENTRY_COLUMNS} "
                        "FROM audit_chain c LEFT JOIN audit_log a ON a.id = c.entry_id "
                        "WHERE c.seq >= :from_seq ORDER BY c.seq LIMIT :batch"
                    ),
                    {"from_seq": expected_seq, "batch": VERIFY_BATCH},
                )
            ).all()
            if not rows:
                break
            for row in rows:
                broken = _check_link(row, expected_seq, expected_prev)
                if broken is not None:
                    break
                expected_prev = str(row.chained_hash)
                expected_seq += 1
                checked += 1
        unsealed = await _unsealed(connection)
    return AuditVerifyReport(
        sealed_entries=checked, unsealed_entries=unsealed, first_broken_link=broken
    )


async def _unsealed(connection: AsyncConnection) -> int:
    found = await connection.scalar(
        text(
            "SELECT count(*) FROM audit_log a WHERE NOT EXISTS "
            "(SELECT 1 FROM audit_chain c WHERE c.entry_id = a.id)"
        )
    )
    return int(found or 0)


def _check_link(row: Row[Any], expected_seq: int, expected_prev: str) -> BrokenLink | None:
    seq = int(row.seq)
    entry_id = int(row.chained_id)
    if seq != expected_seq:
        return BrokenLink(expected_seq, None, f"chain link {expected_seq} is missing")
    if row.prev_hash != expected_prev:
        return BrokenLink(seq, entry_id, "previous-hash link does not match the link before")
    if not row.present:
        return BrokenLink(seq, entry_id, f"audit entry {entry_id} is missing")
    if int(row.xid) != int(row.entry_xid):
        return BrokenLink(seq, entry_id, f"audit entry {entry_id}: xid does not match its link")
    if entry_hash(expected_prev, row) != row.chained_hash:
        return BrokenLink(
            seq, entry_id, f"audit entry {entry_id}: content does not match its sealed hash"
        )
    return None

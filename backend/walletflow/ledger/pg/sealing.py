"""The hash chain of the built-in ledger: the sealer that appends to it and the verifier that
walks it.

Writers never touch the chain. Each transaction row records the id of the database transaction
that inserted it (`xid`). The sealer (one at a time under `pg_try_advisory_xact_lock`) appends
to `ledger_log`, in (xid, id) order, every transaction whose inserting database transaction has
finished: below a horizon that is the least of the next xid and the xids of this database's
running backends (`pg_stat_activity.backend_xid`, read before the rows are selected). No
unfinished transaction can later appear before the sealed point, so the order is final and
gap-free. (The sealer's role must see the writers' backends in `pg_stat_activity`: the same
role, or `pg_read_all_stats`.) Each entry's hash is sha256(previous hash ‖ canonical JSON of
the transaction and its postings). `verify()` walks the log, recomputes every hash from the
rows as they are now and names the first broken link; it also checks that the volume cache
equals the postings. The sealer runs from `walletflow ledger verify`, and a worker may call
`run_sealer()`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.ledger.pg import sql
from walletflow.ledger.pg.codec import as_int, canonical_json, iso_utc, transaction_from_row
from walletflow.ledger.port import Transaction

log = logging.getLogger(__name__)

SEAL_LOCK_KEY = 0x5746_4C45_4447  # "WFLEDG"
SEAL_BATCH = 1_000
MAX_SEAL_BATCHES = 1_000
VERIFY_BATCH = 1_000
GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, tx: Transaction) -> str:
    """The log entry hash: sha256(previous hash ‖ canonical content of the transaction)."""
    body = {
        "id": tx.id,
        "reference": tx.reference,
        "metadata": dict(tx.metadata),
        "effectiveAt": iso_utc(tx.effective_at),
        "insertedAt": iso_utc(tx.inserted_at),
        "revertsTxId": tx.reverts_tx_id,
        "postings": [[p.source, p.destination, str(p.amount_minor), p.asset] for p in tx.postings],
    }
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(body)}".encode()).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    tx_id: int | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "txId": self.tx_id, "reason": self.reason}


@dataclass(frozen=True)
class VerifyReport:
    """The result of walking the hash chain and comparing volumes with postings."""

    sealed_entries: int
    unsealed_transactions: int
    first_broken_link: BrokenLink | None
    volume_mismatches: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.first_broken_link is None and not self.volume_mismatches

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "sealedEntries": self.sealed_entries,
            "unsealedTransactions": self.unsealed_transactions,
            "firstBrokenLink": self.first_broken_link.to_json() if self.first_broken_link else None,
            "volumeMismatches": list(self.volume_mismatches),
        }


class Sealer:
    """Seals and verifies the chain, each batch in its own transaction from `engine`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def seal(self, max_batches: int = MAX_SEAL_BATCHES) -> int:
        """Append every finished, unsealed transaction to the hash chain; return how many.
        Returns 0 at once when another sealer holds the lock."""
        sealed = 0
        for _ in range(max_batches):
            count = await self._seal_batch()
            sealed += max(count, 0)
            if count < SEAL_BATCH:
                break
        return sealed

    async def _seal_batch(self) -> int:
        async with self._engine.begin() as connection:
            got = await connection.scalar(sql.TRY_SEAL_LOCK, {"key": SEAL_LOCK_KEY})
            if not got:
                return -1
            last = (await connection.execute(sql.LAST_LOG_ENTRY)).first()
            seq, after_xid, after_id, prev_hash = (
                (int(last.seq), int(last.tx_xid), int(last.tx_id), str(last.hash))
                if last is not None
                else (0, -1, -1, GENESIS_HASH)
            )
            horizon = await finished_horizon(connection)
            rows = (
                await connection.execute(
                    sql.UNSEALED_BATCH,
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
            tx_ids: list[int] = []
            xids: list[int] = []
            prevs: list[str] = []
            hashes: list[str] = []
            for row in rows:
                seq += 1
                digest = chain_hash(prev_hash, transaction_from_row(row))
                seqs.append(seq)
                tx_ids.append(int(row.id))
                xids.append(int(row.xid))
                prevs.append(prev_hash)
                hashes.append(digest)
                prev_hash = digest
            await connection.execute(
                sql.APPEND_LOG,
                {"seqs": seqs, "tx_ids": tx_ids, "xids": xids, "prevs": prevs, "hashes": hashes},
            )
            return len(rows)

    async def verify(self) -> VerifyReport:
        """Walk the chain from the start, recomputing every hash; name the first broken link.
        Also compare the volume cache with the postings."""
        broken: BrokenLink | None = None
        expected_prev = GENESIS_HASH
        expected_seq = 1
        checked = 0
        async with self._engine.connect() as connection:
            while broken is None:
                rows = (
                    await connection.execute(
                        sql.LOG_PAGE, {"from_seq": expected_seq, "batch": VERIFY_BATCH}
                    )
                ).all()
                if not rows:
                    break
                for row in rows:
                    broken = check_link(row, expected_seq, expected_prev)
                    if broken is not None:
                        break
                    expected_prev = str(row.log_hash)
                    expected_seq += 1
                    checked += 1
            unsealed = int(await connection.scalar(sql.COUNT_UNSEALED) or 0)
            mismatches = (await connection.execute(sql.VOLUME_MISMATCHES)).all()
        return VerifyReport(
            sealed_entries=checked,
            unsealed_transactions=unsealed,
            first_broken_link=broken,
            volume_mismatches=tuple(
                {
                    "account": m.account,
                    "asset": m.asset,
                    "postingsBalance": as_int(m.postings_balance),
                    "volumesBalance": as_int(m.volumes_balance),
                }
                for m in mismatches
            ),
        )


async def finished_horizon(connection: AsyncConnection) -> int:
    """A full transaction id below which every transaction that could write ledger rows has
    finished: the least of the next xid and the xids of this database's backends that are
    running now. Read BEFORE the statement that selects the rows to seal, so that anything
    below it is already final in that later statement's snapshot. Backends of other databases
    (which cannot write our rows) do not hold sealing back."""
    row = (await connection.execute(sql.FINISHED_HORIZON)).one()
    return horizon_of(int(row.next_xid), [int(x) for x in row.running or []])


def horizon_of(next_xid: int, running_short_xids: list[int]) -> int:
    """The least of `next_xid` (a full 64-bit xid) and the running backends' 32-bit xids,
    widened into next_xid's epoch (or the one before, for an xid from before a wraparound)."""
    horizon = next_xid
    epoch_base = next_xid & ~0xFFFF_FFFF
    for short_xid in running_short_xids:
        full = epoch_base | short_xid
        if full > next_xid:
            full -= 1 << 32
        horizon = min(horizon, full)
    return horizon


def check_link(row: Row[Any], expected_seq: int, expected_prev: str) -> BrokenLink | None:
    """The broken link at this log row, or None when it follows from the one before."""
    seq = int(row.seq)
    tx_id = int(row.log_tx_id)
    if seq != expected_seq:
        return BrokenLink(expected_seq, None, f"log entry {expected_seq} is missing")
    if row.prev_hash != expected_prev:
        return BrokenLink(seq, tx_id, "previous-hash link does not match the entry before")
    if not row.present:
        return BrokenLink(seq, tx_id, f"transaction {tx_id} is missing")
    recomputed = chain_hash(expected_prev, transaction_from_row(row))
    if recomputed != row.log_hash:
        return BrokenLink(
            seq, tx_id, f"transaction {tx_id}: content does not match its sealed hash"
        )
    return None


class Seals(Protocol):
    async def seal(self) -> int: ...


async def run_sealer(ledger: Seals, interval_s: float, stop: asyncio.Event) -> None:
    """Seal periodically until `stop` is set (for a worker process)."""
    assert interval_s > 0
    while not stop.is_set():
        try:
            await ledger.seal()
        except Exception:
            log.exception("ledger sealer failed; retrying in %.1fs", interval_s)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except TimeoutError:
            continue

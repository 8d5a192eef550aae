"""The statements read model: one line per posting leg touching a merchant wallet account, with
the wallet account's running balance before and after, rebuilt from the ledger's postings.

Wallet accounts: `available`, `reserve` and `holds` (every payout hold sub-account of the
wallet summed into one running balance).

Order and cursor. Ledger transactions are applied in (xid, id) order, and only those below a
horizon every unfinished writer of this database is above (see `finished_horizon`): no
unfinished transaction can later appear before the applied point, so an incremental rebuild
never skips one. (Unlike the cluster-wide `pg_snapshot_xmin`, the horizon ignores open
transactions of other databases on the same server, so they cannot stall the read model.)
`statement_cursor` holds the last (xid, id) applied and the last line `seq`. Lines are numbered
globally in application order, so an incremental rebuild and a full one produce identical rows.

Concurrency. A rebuild takes a transaction-level advisory lock first: concurrent rebuilds run
one after the other, and the second sees the first's cursor. A full rebuild deletes the lines
(readers keep seeing the old ones until it commits) and reapplies every transaction, in
bounded batches, in the caller's transaction.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.sql import like_escape
from walletflow.domain.accounts import merchant_prefix, segment
from walletflow.domain.errors import ValidationError
from walletflow.money import Asset

STATEMENTS_LOCK_KEY = 0x5746_5354_4D54  # "WFSTMT"
DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 5_000
DEFAULT_MAX_BATCHES = 10_000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
WALLET_ACCOUNT_RE = r"^merchants:[^:]+:[^:]+:(available|reserve|holds:[^:]+)$"

Progress = Callable[[int, int], None]
"""progress(applied_transactions, pending_transactions_at_start)."""

# The lowest 64-bit transaction id (the form `ledger_transactions.xid` stores) that may still
# be unfinished in this database: the snapshot's xmax, or the oldest xid another backend of this
# database holds (pg_stat_activity shows 32-bit xids: they are widened with the epoch of xmax).
_HORIZON_SQL = """
WITH s AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax),
a AS (
    SELECT backend_xid::text::bigint AS xid32 FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL
), widened AS (
    SELECT CASE WHEN ((s.xmax & -4294967296) | a.xid32) > s.xmax
                THEN ((s.xmax & -4294967296) | a.xid32) - 4294967296
                ELSE (s.xmax & -4294967296) | a.xid32 END AS xid
      FROM s CROSS JOIN a
)
SELECT least((SELECT xmax FROM s), (SELECT min(xid) FROM widened)) AS horizon
"""

_PENDING_SQL = """
SELECT count(*) FROM ledger_transactions
 WHERE (xid, id) > (:after_xid, :after_id) AND xid < :horizon
"""

_BATCH_SQL = """
SELECT id, xid FROM ledger_transactions
 WHERE (xid, id) > (:after_xid, :after_id) AND xid < :horizon
 ORDER BY xid, id
 LIMIT :batch
"""

# One statement applies a batch: the legs of its postings on wallet accounts, numbered in
# application order, running balances continued from each wallet account's last line.
_APPLY_SQL = f"""
WITH txs AS (
    SELECT id, xid, reference, effective_at, inserted_at,
           coalesce(metadata->>'description', metadata->>'reason', metadata->>'template',
                    metadata->>'command', 'transaction') AS description
      FROM ledger_transactions
     WHERE id = ANY(CAST(:ids AS bigint[]))
), legs AS (
    SELECT t.xid, p.tx_id, p.ordinal, p.destination AS address, p.asset, p.amount AS delta
      FROM txs t JOIN ledger_postings p ON p.tx_id = t.id
     WHERE p.destination LIKE 'merchants:%' AND p.destination ~ '{WALLET_ACCOUNT_RE}'
    UNION ALL
    SELECT t.xid, p.tx_id, p.ordinal, p.source, p.asset, -p.amount
      FROM txs t JOIN ledger_postings p ON p.tx_id = t.id
     WHERE p.source LIKE 'merchants:%' AND p.source ~ '{WALLET_ACCOUNT_RE}'
), keyed AS (
    SELECT legs.*,
           split_part(address, ':', 2) AS merchant_id,
           split_part(address, ':', 3) AS currency,
           split_part(address, ':', 4) AS wallet_account
      FROM legs
), opening AS (
    SELECT w.merchant_id, w.currency, w.wallet_account, w.asset,
           coalesce(last.balance_after_minor, 0) AS balance
      FROM (SELECT DISTINCT merchant_id, currency, wallet_account, asset FROM keyed) w
      LEFT JOIN LATERAL (
            SELECT s.balance_after_minor FROM statement_lines s
             WHERE s.merchant_id = w.merchant_id AND s.currency = w.currency
               AND s.wallet_account = w.wallet_account AND s.asset = w.asset
             ORDER BY s.seq DESC LIMIT 1
      ) last ON true
), numbered AS (
    SELECT k.*,
           row_number() OVER (ORDER BY k.xid, k.tx_id, k.ordinal, k.address) AS rn,
           o.balance + sum(k.delta) OVER (
               PARTITION BY k.merchant_id, k.currency, k.wallet_account, k.asset
               ORDER BY k.xid, k.tx_id, k.ordinal, k.address
               ROWS UNBOUNDED PRECEDING) AS after
      FROM keyed k
      JOIN opening o USING (merchant_id, currency, wallet_account, asset)
)
INSERT INTO statement_lines (
    seq, merchant_id, currency, wallet_account, address, asset, tx_id, ordinal, amount_minor,
    balance_before_minor, balance_after_minor, effective_at, inserted_at, reference, description)
SELECT :last_seq + n.rn, n.merchant_id, n.currency, n.wallet_account, n.address, n.asset,
       n.tx_id, n.ordinal, n.delta, n.after - n.delta, n.after, t.effective_at, t.inserted_at,
       t.reference, t.description
  FROM numbered n JOIN txs t ON t.id = n.tx_id
"""

_SAVE_CURSOR_SQL = """
INSERT INTO statement_cursor (singleton, last_xid, last_tx_id, last_seq, updated_at)
VALUES (true, :last_xid, :last_tx_id, :last_seq, :now)
ON CONFLICT (singleton) DO UPDATE
   SET last_xid = EXCLUDED.last_xid, last_tx_id = EXCLUDED.last_tx_id,
       last_seq = EXCLUDED.last_seq, updated_at = EXCLUDED.updated_at
"""


@dataclass(frozen=True)
class StatementCursor:
    last_xid: int
    last_tx_id: int
    last_seq: int


START = StatementCursor(last_xid=-1, last_tx_id=-1, last_seq=0)


@dataclass(frozen=True)
class RebuildReport:
    full: bool
    transactions: int
    """Ledger transactions applied by this run."""
    lines: int
    """Statement lines written by this run."""
    batches: int
    caught_up: bool
    """False when `max_batches` stopped the run before the last finished transaction."""
    last_tx_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "transactions": self.transactions,
            "lines": self.lines,
            "batches": self.batches,
            "caughtUp": self.caught_up,
            "lastTxId": self.last_tx_id,
        }


async def read_cursor(connection: AsyncConnection) -> StatementCursor:
    row = (
        await connection.execute(
            text("SELECT last_xid, last_tx_id, last_seq FROM statement_cursor")
        )
    ).first()
    if row is None:
        return START
    return StatementCursor(int(row.last_xid), int(row.last_tx_id), int(row.last_seq))


async def finished_horizon(connection: AsyncConnection) -> int:
    """Every ledger transaction with `xid` below this has finished (committed or rolled back):
    read after discarding the statistics snapshot, before the snapshot that reads the rows."""
    await connection.execute(text("SELECT pg_stat_clear_snapshot()"))
    horizon = await connection.scalar(text(_HORIZON_SQL))
    assert horizon is not None
    return int(horizon)


async def pending_transactions(
    connection: AsyncConnection, cursor: StatementCursor, horizon: int | None = None
) -> int:
    """Finished ledger transactions not yet applied after `cursor`."""
    if horizon is None:
        horizon = await finished_horizon(connection)
    count = await connection.scalar(
        text(_PENDING_SQL),
        {"after_xid": cursor.last_xid, "after_id": cursor.last_tx_id, "horizon": horizon},
    )
    return int(count or 0)


async def rebuild_statements(
    connection: AsyncConnection,
    *,
    full: bool,
    progress: Progress | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int = DEFAULT_MAX_BATCHES,
    now: datetime | None = None,
) -> RebuildReport:
    """Apply the ledger transactions after the cursor (or, `full`, all of them from scratch)
    in batches of `batch_size` transactions, at most `max_batches` batches."""
    assert 1 <= batch_size <= MAX_BATCH_SIZE, batch_size
    assert max_batches >= 1, max_batches
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": STATEMENTS_LOCK_KEY}
    )
    if full:
        await connection.execute(text("DELETE FROM statement_lines"))
        await connection.execute(text("DELETE FROM statement_cursor"))
    cursor = await read_cursor(connection)
    # One horizon for the whole run: transactions finishing meanwhile wait for the next run.
    horizon = await finished_horizon(connection)
    total = await pending_transactions(connection, cursor, horizon) if progress else 0
    transactions = lines = batches = 0
    caught_up = False
    while batches < max_batches:
        rows = (
            await connection.execute(
                text(_BATCH_SQL),
                {
                    "after_xid": cursor.last_xid,
                    "after_id": cursor.last_tx_id,
                    "horizon": horizon,
                    "batch": batch_size,
                },
            )
        ).all()
        if not rows:
            caught_up = True
            break
        batches += 1
        result = await connection.execute(
            text(_APPLY_SQL), {"ids": [int(row.id) for row in rows], "last_seq": cursor.last_seq}
        )
        written = max(int(result.rowcount or 0), 0)
        cursor = StatementCursor(int(rows[-1].xid), int(rows[-1].id), cursor.last_seq + written)
        await connection.execute(
            text(_SAVE_CURSOR_SQL),
            {
                "last_xid": cursor.last_xid,
                "last_tx_id": cursor.last_tx_id,
                "last_seq": cursor.last_seq,
                "now": now or datetime.now(UTC),
            },
        )
        transactions += len(rows)
        lines += written
        if progress is not None:
            progress(transactions, max(total, transactions))
        if len(rows) < batch_size:
            caught_up = True
            break
    return RebuildReport(
        full=full,
        transactions=transactions,
        lines=lines,
        batches=batches,
        caught_up=caught_up,
        last_tx_id=cursor.last_tx_id if cursor.last_tx_id >= 0 else None,
    )


@dataclass(frozen=True)
class StatementLine:
    seq: int
    merchant_id: str
    currency: str
    wallet_account: str
    address: str
    asset: str
    tx_id: int
    ordinal: int
    amount_minor: int
    balance_before_minor: int
    balance_after_minor: int
    effective_at: datetime
    inserted_at: datetime
    reference: str | None
    description: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "merchantId": self.merchant_id,
            "currency": self.currency,
            "walletAccount": self.wallet_account,
            "address": self.address,
            "asset": self.asset,
            "txId": self.tx_id,
            "ordinal": self.ordinal,
            "amountMinor": self.amount_minor,
            "balanceBeforeMinor": self.balance_before_minor,
            "balanceAfterMinor": self.balance_after_minor,
            "effectiveAt": self.effective_at.isoformat(),
            "insertedAt": self.inserted_at.isoformat(),
            "reference": self.reference,
            "description": self.description,
        }


@dataclass(frozen=True)
class StatementPage:
    lines: tuple[StatementLine, ...]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"lines": [line.to_json() for line in self.lines], "nextCursor": self.next_cursor}


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode()


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        seq = position["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
            raise TypeError("seq")
        return seq
    except (ValueError, KeyError, TypeError, UnicodeError, RecursionError):
        raise ValidationError(
            "malformed statement cursor", field_errors={"cursor": "malformed"}
        ) from None


async def list_statement_lines(
    connection: AsyncConnection,
    merchant_id: str,
    currency: str,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    *,
    wallet_account: str | None = None,
) -> StatementPage:
    """A wallet's statement lines, newest first, `limit` per page (keyset: pass `next_cursor`
    back for the next, older page). Optionally one wallet account (available/reserve/holds)."""
    segment(merchant_id, "merchantId")
    segment(currency, "currency")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"page size must be between 1 and {MAX_PAGE_SIZE}",
            field_errors={"limit": f"1..{MAX_PAGE_SIZE}"},
        )
    if wallet_account is not None and wallet_account not in {"available", "reserve", "holds"}:
        raise ValidationError(
            "walletAccount must be available, reserve or holds",
            field_errors={"walletAccount": "available|reserve|holds"},
        )
    before_seq = _decode_cursor(cursor)
    rows = (
        await connection.execute(
            text(
                "SELECT * FROM statement_lines WHERE merchant_id = :merchant AND currency = :ccy "
                "AND (CAST(:before AS bigint) IS NULL OR seq < CAST(:before AS bigint)) "
                "AND (CAST(:account AS text) IS NULL OR wallet_account = CAST(:account AS text)) "
                "ORDER BY seq DESC LIMIT :limit"
            ),
            {
                "merchant": merchant_id,
                "ccy": currency,
                "before": before_seq,
                "account": wallet_account,
                "limit": limit + 1,
            },
        )
    ).all()
    lines = tuple(
        StatementLine(
            seq=int(row.seq),
            merchant_id=row.merchant_id,
            currency=row.currency,
            wallet_account=row.wallet_account,
            address=row.address,
            asset=row.asset,
            tx_id=int(row.tx_id),
            ordinal=int(row.ordinal),
            amount_minor=int(row.amount_minor),
            balance_before_minor=int(row.balance_before_minor),
            balance_after_minor=int(row.balance_after_minor),
            effective_at=row.effective_at,
            inserted_at=row.inserted_at,
            reference=row.reference,
            description=row.description,
        )
        for row in rows[:limit]
    )
    next_cursor = _encode_cursor(lines[-1].seq) if len(rows) > limit else None
    return StatementPage(lines=lines, next_cursor=next_cursor)


@dataclass(frozen=True)
class WalletBalances:
    merchant_id: str
    currency: str
    asset: str
    available_minor: int
    holds_minor: int
    reserve_minor: int

    @property
    def total_minor(self) -> int:
        return self.available_minor + self.holds_minor + self.reserve_minor

    def to_json(self) -> dict[str, Any]:
        return {
            "merchantId": self.merchant_id,
            "currency": self.currency,
            "asset": self.asset,
            "availableMinor": self.available_minor,
            "holdsMinor": self.holds_minor,
            "reserveMinor": self.reserve_minor,
            "totalMinor": self.total_minor,
        }


async def wallet_balances(
    connection: AsyncConnection, merchant_id: str, currency: str
) -> WalletBalances:
    """A wallet's live balances derived from the ledger (its volume rows, one query):
    available, the sum of its open payout holds, and its rolling reserve."""
    segment(merchant_id, "merchantId")
    asset = str(Asset.of(currency))
    prefix = like_escape(f"{merchant_prefix(merchant_id)}{currency}:")
    row = (
        await connection.execute(
            text(
                "SELECT "
                "coalesce(sum(input - output) FILTER (WHERE account = :available), 0) AS available,"
                "coalesce(sum(input - output) FILTER (WHERE account LIKE :holds), 0) AS holds,"
                "coalesce(sum(input - output) FILTER (WHERE account = :reserve), 0) AS reserve "
                "FROM ledger_volumes WHERE account LIKE :prefix AND asset = :asset"
            ),
            {
                "available": f"merchants:{merchant_id}:{currency}:available",
                "holds": f"{prefix}holds:%",
                "reserve": f"merchants:{merchant_id}:{currency}:reserve",
                "prefix": f"{prefix}%",
                "asset": asset,
            },
        )
    ).one()
    return WalletBalances(
        merchant_id=merchant_id,
        currency=currency,
        asset=asset,
        available_minor=int(row.available),
        holds_minor=int(row.holds),
        reserve_minor=int(row.reserve),
    )

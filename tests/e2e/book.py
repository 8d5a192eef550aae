"""A real-size book for the console's browser tests, written straight into the e2e database in
a few set-based statements (the API would take many minutes for it): wallets, pay-ins (one
ledger transaction each, `world` → the wallet), open payout holds (a reserve transaction each,
the wallet → its hold sub-account, and the hold row), with the volume cache and the
statements read model (lines and cursor) written from the same postings, so balances, the
gates and statements agree with the ledger.

Sizes come from the environment (defaults: the issue's 10,000 wallets, 1,000 holds and
100,000 transactions): E2E_BOOK_WALLETS, E2E_BOOK_HOLDS, E2E_BOOK_TRANSACTIONS. Merchant ids
are `zz-00001`… so they sort after every wallet the other browser tests create.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import asyncpg

from walletflow.db.engine import create_engine, plain_url
from walletflow.reporting.statements import MAX_BATCH_SIZE, rebuild_statements

PREFIX = "zz-"
CURRENCY = "NGN"
ASSET = "NGN/2"


@dataclass(frozen=True)
class Book:
    wallets: int
    holds: int
    transactions: int
    seconds: float

    @staticmethod
    def merchant(n: int) -> str:
        return f"{PREFIX}{n:05d}"

    @staticmethod
    def payin_reference(n: int) -> str:
        return f"zz-payin-{n:06d}"

    @staticmethod
    def payout_id(n: int) -> str:
        return f"zz-po-{n:05d}"


def sizes() -> tuple[int, int, int]:
    wallets = int(os.environ.get("E2E_BOOK_WALLETS", "10000"))
    holds = min(int(os.environ.get("E2E_BOOK_HOLDS", "1000")), wallets)
    transactions = max(int(os.environ.get("E2E_BOOK_TRANSACTIONS", "100000")), wallets)
    return wallets, holds, transactions


async def seed(database_url: str) -> Book:
    """Write the book (once per database: a second call finds it and only counts)."""
    wallets, holds, transactions = sizes()
    started = time.perf_counter()
    await catch_up_statements(database_url)  # what other tests wrote, before the seed
    conn = await asyncpg.connect(plain_url(database_url))
    try:
        existing = await conn.fetchval("SELECT count(*) FROM wallets WHERE merchant_id LIKE 'zz-%'")
        if existing:
            return Book(wallets, holds, transactions, 0.0)
        async with conn.transaction():
            id0 = int(
                await conn.fetchval("SELECT coalesce(max(id), 0) + 1000 FROM ledger_transactions")
            )
            await conn.execute(
                "INSERT INTO merchants (merchant_id, name, created_at) "
                "SELECT 'zz-' || lpad(n::text, 5, '0'), 'Seeded shop ' || n, "
                "now() - interval '30 days' FROM generate_series(1, $1::int) AS n",
                wallets,
            )
            await conn.execute(
                "INSERT INTO wallets (merchant_id, currency, created_at) "
                "SELECT 'zz-' || lpad(n::text, 5, '0'), 'NGN', "
                "now() - interval '30 days' + n * interval '1 s' "
                "FROM generate_series(1, $1::int) AS n",
                wallets,
            )
            # Pay-ins: transaction i pays merchant ((i - 1) % wallets) + 1, spread over 30 days.
            await conn.execute(
                "INSERT INTO ledger_transactions (id, reference, metadata, effective_at, "
                "inserted_at) "
                "SELECT $1::bigint + i, 'zz-payin-' || lpad(i::text, 6, '0'), "
                "jsonb_build_object('template', 'payin', 'seed', 'e2e-book'), "
                "now() - interval '30 days' + i * (interval '30 days' / $2::int), now() "
                "FROM generate_series(1, $2::int) AS i",
                id0,
                transactions,
            )
            await conn.execute(
                "INSERT INTO ledger_postings (tx_id, ordinal, source, destination, asset, "
                "amount, effective_at, inserted_at) "
                "SELECT t.id, 0, 'world', 'merchants:zz-' || lpad((((t.id - $1::bigint - 1) "
                "% $2::int) + 1)::text, 5, '0') || ':NGN:available', 'NGN/2', "
                "100000 + ((t.id * 7919) % 900000), t.effective_at, t.inserted_at "
                "FROM ledger_transactions t WHERE t.id > $1::bigint",
                id0,
                wallets,
            )
            # Holds: merchant h reserves 500.00 NGN for payout zz-po-h (reserve transactions
            # after the pay-ins, so every wallet has the funds at the reserve's time).
            hold_id0 = id0 + transactions
            await conn.execute(
                "INSERT INTO ledger_transactions (id, reference, metadata, effective_at, "
                "inserted_at) "
                "SELECT $1::bigint + h, 'zz-reserve-' || lpad(h::text, 5, '0'), "
                "jsonb_build_object('template', 'reserve_payout', 'payout_id', "
                "'zz-po-' || lpad(h::text, 5, '0')), "
                "now() - interval '2 days' + h * interval '1 min', now() "
                "FROM generate_series(1, $2::int) AS h",
                hold_id0,
                holds,
            )
            await conn.execute(
                "INSERT INTO ledger_postings (tx_id, ordinal, source, destination, asset, "
                "amount, effective_at, inserted_at) "
                "SELECT t.id, 0, 'merchants:zz-' || lpad((t.id - $1::bigint)::text, 5, '0') "
                "|| ':NGN:available', 'merchants:zz-' || lpad((t.id - $1::bigint)::text, 5, "
                "'0') || ':NGN:holds:zz-po-' || lpad((t.id - $1::bigint)::text, 5, '0'), "
                "'NGN/2', 50000, t.effective_at, t.inserted_at "
                "FROM ledger_transactions t WHERE t.id > $1::bigint",
                hold_id0,
            )
            await conn.execute(
                "INSERT INTO holds (payout_id, merchant_id, currency, asset, amount_minor, "
                "provider, destination, state, reserve_tx_id, created_at, state_changed_at) "
                "SELECT 'zz-po-' || lpad(h::text, 5, '0'), 'zz-' || lpad(h::text, 5, '0'), "
                "'NGN', 'NGN/2', 50000, 'sandbox', '{\"bank\": \"058\"}'::jsonb, 'reserved', "
                "$1::bigint + h, now() - interval '2 days' + h * interval '1 min', "
                "now() - interval '2 days' + h * interval '1 min' "
                "FROM generate_series(1, $2::int) AS h",
                hold_id0,
                holds,
            )
            await conn.execute(
                "SELECT setval(pg_get_serial_sequence('ledger_transactions', 'id'), "
                "(SELECT max(id) FROM ledger_transactions))"
            )
            # The statements read model of the seeded legs (new wallets: opening balance 0),
            # numbered after the cursor in the read model's own order, and the cursor moved past
            # them (the rebuild in the product applies ~1,000 transactions a second here, so a
            # fixture that waited for it would spend minutes before the first page).
            await conn.execute(
                "WITH legs AS ("
                "  SELECT p.tx_id, p.ordinal, p.destination AS address, p.asset, "
                "         p.amount AS delta FROM ledger_postings p "
                "   WHERE p.tx_id > $1::bigint AND p.destination LIKE 'merchants:%'"
                "  UNION ALL"
                "  SELECT p.tx_id, p.ordinal, p.source, p.asset, -p.amount FROM ledger_postings p"
                "   WHERE p.tx_id > $1::bigint AND p.source LIKE 'merchants:%'"
                "), keyed AS ("
                "  SELECT legs.*, split_part(address, ':', 2) AS merchant_id, "
                "         split_part(address, ':', 3) AS currency, "
                "         split_part(address, ':', 4) AS wallet_account FROM legs"
                "), numbered AS ("
                "  SELECT k.*, row_number() OVER (ORDER BY k.tx_id, k.ordinal, k.address) AS rn,"
                "         sum(k.delta) OVER (PARTITION BY k.merchant_id, k.currency, "
                "           k.wallet_account, k.asset ORDER BY k.tx_id, k.ordinal, k.address "
                "           ROWS UNBOUNDED PRECEDING) AS after FROM keyed k"
                ") "
                "INSERT INTO statement_lines (seq, merchant_id, currency, wallet_account, "
                "address, asset, tx_id, ordinal, amount_minor, balance_before_minor, "
                "balance_after_minor, effective_at, inserted_at, reference, description) "
                "SELECT c.last_seq + n.rn, n.merchant_id, n.currency, n.wallet_account, "
                "n.address, n.asset, n.tx_id, n.ordinal, n.delta, n.after - n.delta, n.after, "
                "t.effective_at, t.inserted_at, t.reference, t.metadata->>'template' "
                "FROM numbered n JOIN ledger_transactions t ON t.id = n.tx_id, "
                "(SELECT coalesce((SELECT last_seq FROM statement_cursor), 0) AS last_seq) c",
                id0,
            )
            await conn.execute(
                "INSERT INTO statement_cursor (singleton, last_xid, last_tx_id, last_seq, "
                "updated_at) "
                "SELECT true, pg_current_xact_id()::text::bigint, max(id), "
                "(SELECT max(seq) FROM statement_lines), now() "
                "FROM ledger_transactions WHERE id > $1::bigint "
                "ON CONFLICT (singleton) DO UPDATE SET last_xid = excluded.last_xid, "
                "last_tx_id = excluded.last_tx_id, last_seq = excluded.last_seq, "
                "updated_at = excluded.updated_at",
                id0,
            )
            # The volume cache, from the seeded postings (shard 0; `world` may go negative).
            await conn.execute(
                "INSERT INTO ledger_volumes (account, asset, shard, input, output, "
                "may_go_negative) "
                "SELECT account, asset, 0, sum(input), sum(output), bool_or(neg) FROM ("
                "  SELECT destination AS account, asset, amount AS input, 0 AS output, "
                "         false AS neg FROM ledger_postings WHERE tx_id > $1::bigint"
                "  UNION ALL"
                "  SELECT source, asset, 0, amount, source = 'world' FROM ledger_postings "
                "  WHERE tx_id > $1::bigint"
                ") legs GROUP BY account, asset "
                "ON CONFLICT (account, asset, shard) DO UPDATE "
                "SET input = ledger_volumes.input + excluded.input, "
                "    output = ledger_volumes.output + excluded.output",
                id0,
            )
    finally:
        await conn.close()
    return Book(wallets, holds, transactions, time.perf_counter() - started)


async def catch_up_statements(database_url: str) -> tuple[int, float]:
    """Apply the seeded postings to the statements read model once, in the largest batches
    (what `walletflow report rebuild-statements` does); (lines written, seconds)."""
    started = time.perf_counter()
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            report = await rebuild_statements(connection, full=False, batch_size=MAX_BATCH_SIZE)
    finally:
        await engine.dispose()
    return report.lines, time.perf_counter() - started

"""The built-in ledger on PostgreSQL: immutable postings, volumes kept in the same transaction.

Modules, one concept each:
  ledger.py   the faces: the six port methods once, over a `Connector` (own transactions from
              an engine, or a caller's open transaction); `PostgresLedger`, `PgLedger`
  write.py    the write core: idempotency claims, script resolution, the one-statement write,
              dry runs, reverts
  volumes.py  the volume cache: net movements, shard choice, lock order, spread debits
  reads.py    one transaction, pages of transactions and accounts, balances (now or as of)
  sealing.py  the hash chain: `chain_hash`, the sealer, `verify()`, `run_sealer`
  errors.py   the ledger's constraints as typed errors, over the shared `db/errors.py` table
  codec.py    canonical JSON, request hashes, cursors, LIKE prefixes, row decoding
  sql.py      every statement's text

Design
------
Writes. A post is, in one database transaction: claim the idempotency key (optional), read the
balances a script needs (scripts only), then ONE statement that inserts the transaction row
(`ON CONFLICT DO NOTHING` on `UNIQUE(reference)` / `UNIQUE(reverts_tx_id)`), its postings and
upserts the per-(account, asset, shard) volume rows, then store the claim's response. Balances
are derived: `ledger_volumes` is a cache of the postings maintained in that same transaction and
checked against them by `verify()`.

Overdraft. Every volume row carries `may_go_negative`, decided by the `OverdraftPolicy` when the
row is created, and `CHECK (may_go_negative OR input >= output)`. The check runs on the row
version the upsert writes while holding the row lock, so it is exact under any concurrency and
it is the database, not a check-then-write in Python, that refuses an overdraft. (PostgreSQL
checks the row an upsert proposes before it finds the conflict, so a debit of a protected
account proposes its row with `may_go_negative` NULL, which passes; the update keeps the
existing flag and the CHECK judges the real row; if no row existed, a trigger refuses the
insert.) A Numscript request first reads the balances it needs; rows of accounts that may not go
negative, and of the accounts its variables name, are read `FOR UPDATE` in sorted order, so the
script decides on balances that cannot move under it.

Lock order. Volume rows are upserted in one statement in (account, asset, shard) order, and the
locking read of a script is sorted the same way, so two writers always meet their common rows
in the same order: no deadlocks among posts. (A script that credits an account it did not name
as a variable can still meet a crossing writer; PostgreSQL then aborts one, which is retried in
standalone mode and reported as `Unavailable`, retryable, in bound mode.)

Hot accounts. `world`, fees, VAT and provider settlement accounts appear in nearly every pay-in.
Accounts the policy marks hot keep their volumes in `shard_count` rows; a write uses the home
shard of its pooled connection (handed out round robin), so concurrent writers do not meet on a
row lock while there are at least as many shards as busy connections; a balance is the sum of
the shards. Accounts that may go negative need no check at all, and a credit never needs one. A
debit of a hot account that may NOT go negative (say fees paid out) locks all its shards in
order and spreads the debit so that no shard goes negative, keeping the per-row CHECK valid and
the sum exact.

Idempotency. `idempotency_claims(scope="ledger", key)` with the sha256 of the request body,
claimed with `INSERT … ON CONFLICT DO NOTHING` in the same transaction as the write: a concurrent
duplicate waits on the claim's unique index until the first commits, then reads the stored
response. Replays return the original result forever; another body raises
`IdempotencyKeyReused`.

Hash chain without a global lock. Writers never touch the chain; a sealer appends finished
transactions to `ledger_log` in a final, gap-free order, each entry's hash covering the one
before (see `sealing.py`).

Bi-temporal. Each transaction has `effective_at` (when it counts; defaults to now) and
`inserted_at` (when it was recorded). `balances(at=..., effective_at=...)` sums postings
recorded up to `at` and effective up to `effective_at`; without either it sums the volume shards.

Unit of work. `PostgresLedger(engine)` runs each call in its own transaction (a post that is
just the one write statement runs as that statement's implicit transaction: one round trip).
`ledger.bound(connection)` returns the same ledger on a caller's open transaction: it never
commits or rolls back; after an error the caller rolls back.
"""

from __future__ import annotations

from walletflow.ledger.pg.codec import request_hash
from walletflow.ledger.pg.ledger import (
    CallerTransaction,
    Connector,
    OwnTransactions,
    PgLedger,
    PostgresLedger,
)
from walletflow.ledger.pg.sealing import BrokenLink, VerifyReport, chain_hash, run_sealer
from walletflow.ledger.pg.volumes import net_movements

__all__ = [
    "BrokenLink",
    "CallerTransaction",
    "Connector",
    "OwnTransactions",
    "PgLedger",
    "PostgresLedger",
    "VerifyReport",
    "chain_hash",
    "net_movements",
    "request_hash",
    "run_sealer",
]

"""The SQL text of the built-in ledger, every statement in one place.

Statements are `text()` clauses with bound parameters; the few that take a variable filter are
format strings (`{where}`, `{legs}`) that `reads.py` fills with fixed condition fragments only,
never with values.
"""

from __future__ import annotations

from sqlalchemy import text

# -- transactions as rows ---------------------------------------------------------------------

TX_COLUMNS = """
    t.id, t.reference, t.metadata, t.effective_at, t.inserted_at, t.reverts_tx_id,
    EXISTS (SELECT 1 FROM ledger_transactions r WHERE r.reverts_tx_id = t.id) AS reverted,
    (SELECT json_agg(json_build_array(p.source, p.destination, p.amount::text, p.asset)
                     ORDER BY p.ordinal)
       FROM ledger_postings p WHERE p.tx_id = t.id) AS postings
"""
"""The columns `codec.transaction_from_row` reads, on `ledger_transactions t`."""

# -- idempotency claims -----------------------------------------------------------------------

CLAIM = text(
    "INSERT INTO idempotency_claims (scope, key, request_hash, response) "
    "VALUES (:scope, :key, :hash, 'null'::jsonb) ON CONFLICT DO NOTHING RETURNING 1"
)
READ_CLAIM = text(
    "SELECT request_hash, response FROM idempotency_claims WHERE scope = :scope AND key = :key"
)
STORE_CLAIM = text(
    "UPDATE idempotency_claims SET response = CAST(:response AS jsonb) "
    "WHERE scope = :scope AND key = :key"
)

# -- the write --------------------------------------------------------------------------------

_VOLUME_ROWS = """
    SELECT u.account, u.asset, u.shard, u.input, u.output, u.neg, u.ord
      FROM unnest(CAST(:v_account AS text[]), CAST(:v_asset AS text[]),
                  CAST(:v_shard AS int2[]), CAST(:v_input AS numeric[]),
                  CAST(:v_output AS numeric[]), CAST(:v_neg AS bool[]))
           WITH ORDINALITY AS u(account, asset, shard, input, output, neg, ord)
"""

_UPSERT_TAIL = """
    ON CONFLICT (account, asset, shard) DO UPDATE
       SET input = ledger_volumes.input + excluded.input,
           output = ledger_volumes.output + excluded.output,
           may_go_negative = ledger_volumes.may_go_negative
    RETURNING account, asset, shard, input - output AS shard_balance
"""

# One statement: the transaction row, its postings and the volumes, in that order (the later
# CTEs read `tx`, so nothing is written when the reference or the revert already exists).
WRITE = text(
    f"""
    WITH tx AS (
        INSERT INTO ledger_transactions (reference, metadata, effective_at, reverts_tx_id)
        VALUES (:reference, CAST(:metadata AS jsonb),
                coalesce(CAST(:effective_at AS timestamptz), now()), :reverts_tx_id)
        ON CONFLICT DO NOTHING
        RETURNING id, effective_at, inserted_at
    ), p AS (
        INSERT INTO ledger_postings
               (tx_id, ordinal, source, destination, asset, amount, effective_at, inserted_at)
        SELECT tx.id, u.ord, u.source, u.destination, u.asset, u.amount,
               tx.effective_at, tx.inserted_at
          FROM tx, unnest(CAST(:p_source AS text[]), CAST(:p_destination AS text[]),
                          CAST(:p_asset AS text[]), CAST(:p_amount AS numeric[]))
                   WITH ORDINALITY AS u(source, destination, asset, amount, ord)
    ), up AS (
        INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative)
        SELECT v.account, v.asset, v.shard, v.input, v.output, v.neg
          FROM ({_VOLUME_ROWS}) v
         WHERE EXISTS (SELECT 1 FROM tx)
         ORDER BY v.ord
        {_UPSERT_TAIL}
    )
    SELECT tx.id, tx.effective_at, tx.inserted_at, up.account, up.asset,
           up.shard_balance + coalesce(
               (SELECT sum(o.input - o.output) FROM ledger_volumes o
                 WHERE o.account = up.account AND o.asset = up.asset AND o.shard <> up.shard),
               0) AS balance
      FROM tx LEFT JOIN up ON true
    """
)

UPSERT_VOLUMES = text(
    f"""
    WITH up AS (
        INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative)
        SELECT v.account, v.asset, v.shard, v.input, v.output, v.neg
          FROM ({_VOLUME_ROWS}) v ORDER BY v.ord
        {_UPSERT_TAIL}
    )
    SELECT up.account, up.asset,
           up.shard_balance + coalesce(
               (SELECT sum(o.input - o.output) FROM ledger_volumes o
                 WHERE o.account = up.account AND o.asset = up.asset AND o.shard <> up.shard),
               0) AS balance
      FROM up
    """
)

LOCK_SHARDS = text(
    "SELECT shard, input - output AS balance FROM ledger_volumes "
    "WHERE account = :account AND asset = :asset ORDER BY shard FOR UPDATE"
)

_READ_VOLUMES = """
    SELECT v.account, v.asset, v.input - v.output AS balance FROM ledger_volumes v
     WHERE (v.account, v.asset) IN (
           SELECT * FROM unnest(CAST(:b_account AS text[]), CAST(:b_asset AS text[])))
     ORDER BY v.account, v.asset, v.shard
"""
READ_VOLUMES_FOR_UPDATE = text(_READ_VOLUMES + " FOR UPDATE")
READ_VOLUMES = text(_READ_VOLUMES)

READ_ACCOUNT_META = text(
    "SELECT address, metadata FROM ledger_account_metadata "
    "WHERE address = ANY(CAST(:addresses AS text[]))"
)
WRITE_ACCOUNT_META = text(
    """
    INSERT INTO ledger_account_metadata (address, metadata)
    SELECT u.address, u.metadata
      FROM unnest(CAST(:addresses AS text[]), CAST(:metadatas AS jsonb[])) AS u(address, metadata)
     ORDER BY u.address
    ON CONFLICT (address) DO UPDATE
       SET metadata = ledger_account_metadata.metadata || excluded.metadata, updated_at = now()
    """
)

REFERENCE_EXISTS = text("SELECT id FROM ledger_transactions WHERE reference = :reference")
REVERT_EXISTS = text("SELECT id FROM ledger_transactions WHERE reverts_tx_id = :tx_id")

# -- reads ------------------------------------------------------------------------------------

GET_TX = text(f"SELECT {TX_COLUMNS} FROM ledger_transactions t WHERE t.id = :tx_id")

LIST_TRANSACTIONS = (
    f"SELECT {TX_COLUMNS} FROM ledger_transactions t WHERE {{where}} "
    "ORDER BY t.id DESC LIMIT :limit"
)
POSTING_EXISTS = "EXISTS (SELECT 1 FROM ledger_postings p WHERE {where})"

BALANCES_FROM_VOLUMES = (
    "SELECT account, asset, sum(input - output) AS balance FROM ledger_volumes "
    "WHERE {where} GROUP BY account, asset ORDER BY account, asset"
)
BALANCE_LEG = (
    "SELECT {column} AS account, asset, {sign}amount AS delta FROM ledger_postings WHERE {where}"
)
BALANCES_FROM_POSTINGS = (
    "SELECT account, asset, sum(delta) AS balance FROM ({legs}) x "
    "GROUP BY account, asset ORDER BY account, asset"
)

ACCOUNTS = text(
    """
    SELECT a.address, coalesce(m.metadata, '{}'::jsonb) AS metadata
      FROM (SELECT DISTINCT account AS address FROM ledger_volumes
             WHERE account > :after AND account LIKE :like
            UNION
            SELECT address FROM ledger_account_metadata
             WHERE address > :after AND address LIKE :like) a
      LEFT JOIN ledger_account_metadata m ON m.address = a.address
     ORDER BY a.address LIMIT :limit
    """
)

# -- the hash chain ---------------------------------------------------------------------------

TRY_SEAL_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
LAST_LOG_ENTRY = text("SELECT seq, tx_xid, tx_id, hash FROM ledger_log ORDER BY seq DESC LIMIT 1")
FINISHED_HORIZON = text(
    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid, "
    "array(SELECT backend_xid::text::bigint FROM pg_stat_activity "
    "      WHERE datname = current_database() AND backend_xid IS NOT NULL"
    "      AND pid <> pg_backend_pid()) AS running"
)
UNSEALED_BATCH = text(
    f"SELECT {TX_COLUMNS}, t.xid FROM ledger_transactions t "
    "WHERE (t.xid, t.id) > (:after_xid, :after_id) AND t.xid < :horizon "
    "ORDER BY t.xid, t.id LIMIT :batch"
)
APPEND_LOG = text(
    "INSERT INTO ledger_log (seq, tx_id, tx_xid, prev_hash, hash) "
    "SELECT * FROM unnest(CAST(:seqs AS bigint[]), CAST(:tx_ids AS bigint[]), "
    "CAST(:xids AS bigint[]), CAST(:prevs AS text[]), CAST(:hashes AS text[]))"
)
LOG_PAGE = text(
    f"SELECT l.seq, l.tx_id AS log_tx_id, l.prev_hash, l.hash AS log_hash, "
    f"t.id IS NOT NULL AS present, {TX_COLUMNS} "
    "FROM ledger_log l LEFT JOIN ledger_transactions t ON t.id = l.tx_id "
    "WHERE l.seq >= :from_seq ORDER BY l.seq LIMIT :batch"
)
COUNT_UNSEALED = text(
    "SELECT count(*) FROM ledger_transactions t WHERE NOT EXISTS "
    "(SELECT 1 FROM ledger_log l WHERE l.tx_id = t.id)"
)
VOLUME_MISMATCHES = text(
    """
    WITH p AS (
        SELECT account, asset, sum(delta) AS balance FROM (
            SELECT destination AS account, asset, amount AS delta
              FROM ledger_postings
            UNION ALL
            SELECT source, asset, -amount FROM ledger_postings) x
         GROUP BY account, asset
    ), v AS (
        SELECT account, asset, sum(input - output) AS balance
          FROM ledger_volumes GROUP BY account, asset
    )
    SELECT coalesce(p.account, v.account) AS account,
           coalesce(p.asset, v.asset) AS asset,
           coalesce(p.balance, 0) AS postings_balance,
           coalesce(v.balance, 0) AS volumes_balance
      FROM p FULL JOIN v ON p.account = v.account AND p.asset = v.asset
     WHERE coalesce(p.balance, 0) <> coalesce(v.balance, 0)
     ORDER BY 1, 2 LIMIT 100
    """
)

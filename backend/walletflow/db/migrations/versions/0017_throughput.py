"""throughput: `ledger_post_batch(items)`, many posts of explicit postings in one round trip

Each item runs in its own exception block (a subtransaction), so one item's overdraft (the
CHECK / trigger on ledger_volumes) or reference conflict rolls back that item only and is
answered as that item's error; the others commit together in the caller's one transaction.
Every existing volume row the batch moves is locked first, in the global (account, asset,
shard) order, so concurrent batches cannot deadlock on each other. The statements are the
ones of `sql.WRITE` (same tables, constraints, triggers, lock order
within an item); nothing is weakened.

Revision ID: 0017_throughput
Revises: 0014_recon
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_throughput"
down_revision: str | None = "0014_recon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_post_batch(items jsonb) RETURNS jsonb
        LANGUAGE plpgsql AS $$
        DECLARE
          item jsonb;
          answers jsonb := '[]'::jsonb;
          tx record;
          balances jsonb;
          failed_constraint text;
          failed_detail text;
        BEGIN
          -- Lock every existing volume row of the whole batch first, in the global
          -- (account, asset, shard) order: two concurrent batches then meet their common
          -- rows in the same order, as two single posts do, and cannot deadlock on them.
          PERFORM 1 FROM ledger_volumes v
           WHERE (v.account, v.asset, v.shard) IN (
                 SELECT e->>0, e->>1, (e->>2)::int2
                   FROM jsonb_array_elements(items) AS i(value),
                        jsonb_array_elements(i.value->'v') AS e)
           ORDER BY v.account, v.asset, v.shard
             FOR UPDATE;
          FOR item IN SELECT value FROM jsonb_array_elements(items) LOOP
            BEGIN
              INSERT INTO ledger_transactions (reference, metadata, effective_at)
              VALUES (item->>'reference', item->'metadata',
                      coalesce((item->>'effective_at')::timestamptz, now()))
              ON CONFLICT DO NOTHING
              RETURNING id, effective_at, inserted_at INTO tx;
              IF NOT FOUND THEN
                answers := answers || jsonb_build_array(
                  jsonb_build_object('error', 'REFERENCE_CONFLICT'));
                CONTINUE;
              END IF;
              INSERT INTO ledger_postings
                     (tx_id, ordinal, source, destination, asset, amount,
                      effective_at, inserted_at)
              SELECT tx.id, u.ord, u.e->>0, u.e->>1, u.e->>2, (u.e->>3)::numeric,
                     tx.effective_at, tx.inserted_at
                FROM jsonb_array_elements(item->'p') WITH ORDINALITY AS u(e, ord);
              WITH up AS (
                INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative)
                SELECT v.e->>0, v.e->>1, (v.e->>2)::int2, (v.e->>3)::numeric,
                       (v.e->>4)::numeric, (v.e->>5)::bool
                  FROM jsonb_array_elements(item->'v') WITH ORDINALITY AS v(e, ord)
                 ORDER BY v.ord
                ON CONFLICT (account, asset, shard) DO UPDATE
                   SET input = ledger_volumes.input + excluded.input,
                       output = ledger_volumes.output + excluded.output,
                       may_go_negative = ledger_volumes.may_go_negative
                RETURNING account, asset, shard, input - output AS shard_balance
              )
              SELECT coalesce(jsonb_agg(jsonb_build_array(
                       up.account, up.asset,
                       (up.shard_balance + coalesce(
                          (SELECT sum(o.input - o.output) FROM ledger_volumes o
                            WHERE o.account = up.account AND o.asset = up.asset
                              AND o.shard <> up.shard), 0))::text)), '[]'::jsonb)
                INTO balances FROM up;
              answers := answers || jsonb_build_array(jsonb_build_object(
                'id', tx.id, 'effective_at', tx.effective_at,
                'inserted_at', tx.inserted_at, 'balances', balances));
            EXCEPTION WHEN check_violation OR unique_violation THEN
              GET STACKED DIAGNOSTICS failed_constraint = CONSTRAINT_NAME,
                                      failed_detail = PG_EXCEPTION_DETAIL;
              answers := answers || jsonb_build_array(jsonb_build_object(
                'error', 'CONSTRAINT', 'constraint', failed_constraint,
                'detail', failed_detail));
            END;
          END LOOP;
          RETURN answers;
        END;
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_post_batch(jsonb)")

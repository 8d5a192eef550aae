"""ledger: append-only transactions and postings, sharded volumes, account metadata, hash log

Revision ID: 0002_ledger
Revises: 0001_foundation
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_ledger"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(38, 0)
APPEND_ONLY_TABLES = ("ledger_transactions", "ledger_postings", "ledger_log")


def upgrade() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "inserted_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("reverts_tx_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["reverts_tx_id"],
            ["ledger_transactions.id"],
            name="fk_ledger_transactions_reverts_tx_id_ledger_transactions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_transactions"),
        sa.UniqueConstraint("reference", name="uq_ledger_transactions_reference"),
        sa.UniqueConstraint("reverts_tx_id", name="uq_ledger_transactions_reverts_tx_id"),
    )
    op.create_index("ix_ledger_transactions_xid_id", "ledger_transactions", ["xid", "id"])
    op.create_index("ix_ledger_transactions_effective_at", "ledger_transactions", ["effective_at"])

    op.create_table(
        "ledger_postings",
        sa.Column("tx_id", sa.BigInteger(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(collation="C"), nullable=False),
        sa.Column("destination", sa.Text(collation="C"), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("amount", AMOUNT, nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inserted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_postings_positive_amount")),
        sa.CheckConstraint(
            "source <> destination", name=op.f("ck_ledger_postings_distinct_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["ledger_transactions.id"],
            name="fk_ledger_postings_tx_id_ledger_transactions",
        ),
        sa.PrimaryKeyConstraint("tx_id", "ordinal", name="pk_ledger_postings"),
    )
    op.create_index("ix_ledger_postings_source_asset", "ledger_postings", ["source", "asset"])
    op.create_index(
        "ix_ledger_postings_destination_asset", "ledger_postings", ["destination", "asset"]
    )

    op.create_table(
        "ledger_volumes",
        sa.Column("account", sa.Text(collation="C"), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("input", AMOUNT, server_default=sa.text("0"), nullable=False),
        sa.Column("output", AMOUNT, server_default=sa.text("0"), nullable=False),
        sa.Column("may_go_negative", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "may_go_negative OR input >= output", name=op.f("ck_ledger_volumes_no_overdraft")
        ),
        sa.CheckConstraint(
            "input >= 0 AND output >= 0", name=op.f("ck_ledger_volumes_nonnegative_volumes")
        ),
        sa.PrimaryKeyConstraint("account", "asset", "shard", name="pk_ledger_volumes"),
    )

    op.create_table(
        "ledger_account_metadata",
        sa.Column("address", sa.Text(collation="C"), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("address", name="pk_ledger_account_metadata"),
    )

    op.create_table(
        "ledger_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_id", sa.BigInteger(), nullable=False),
        sa.Column("tx_xid", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column(
            "sealed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tx_id"], ["ledger_transactions.id"], name="fk_ledger_log_tx_id_ledger_transactions"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_log"),
        sa.UniqueConstraint("tx_id", name="uq_ledger_log_tx_id"),
    )

    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME
            USING ERRCODE = 'raise_exception';
        END;
        $$
        """
    )
    for table_name in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table_name}_append_only BEFORE UPDATE OR DELETE ON {table_name} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )

    # The proposed row of an upsert that debits a protected account carries may_go_negative
    # NULL (it passes the CHECK so that ON CONFLICT can update the existing row, where the CHECK
    # then judges the real flag). If no row existed, the proposal is inserted: refuse it.
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_new_overdraft() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'insufficient funds: % has no % to spend', NEW.account, NEW.asset
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'ck_ledger_volumes_no_overdraft',
                  DETAIL = format('Failing row contains (%s, %s, …)', NEW.account, NEW.asset);
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_volumes_no_new_overdraft AFTER INSERT ON ledger_volumes "
        "FOR EACH ROW WHEN (NEW.may_go_negative IS NULL) "
        "EXECUTE FUNCTION ledger_refuse_new_overdraft()"
    )


def downgrade() -> None:
    op.drop_table("ledger_log")
    op.drop_table("ledger_account_metadata")
    op.drop_table("ledger_volumes")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_transactions")
    op.execute("DROP FUNCTION ledger_refuse_change()")
    op.execute("DROP FUNCTION ledger_refuse_new_overdraft()")

"""reporting: chart of accounts, GL mappings, statements read model

Revision ID: 0004_reporting
Revises: 0003_service
Create Date: 2026-11-28 05:14:25.804450
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reporting"
down_revision: str | None = "0003_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coa_accounts",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("account_class", sa.Text(), nullable=False),
        sa.Column("normal_balance", sa.Text(), nullable=False),
        sa.Column("address_pattern", sa.Text(), nullable=False),
        sa.Column("address_regex", sa.Text(), nullable=False),
        sa.Column("may_go_negative", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "account_class IN ('ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE')",
            name=op.f("ck_coa_accounts_class_known"),
        ),
        sa.CheckConstraint(
            "normal_balance IN ('DEBIT', 'CREDIT')",
            name=op.f("ck_coa_accounts_normal_balance_known"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_coa_accounts")),
        sa.UniqueConstraint("kind", name=op.f("uq_coa_accounts_kind")),
    )
    op.create_table(
        "statement_cursor",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_xid", sa.BigInteger(), nullable=False),
        sa.Column("last_tx_id", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_statement_cursor_one_row")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_statement_cursor")),
    )
    op.create_table(
        "gl_mappings",
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("leg", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("destination_kind", sa.Text(), nullable=False),
        sa.Column("debit_code", sa.Text(), nullable=False),
        sa.Column("credit_code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credit_code"],
            ["coa_accounts.code"],
            name=op.f("fk_gl_mappings_credit_code_coa_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_code"],
            ["coa_accounts.code"],
            name=op.f("fk_gl_mappings_debit_code_coa_accounts"),
        ),
        sa.PrimaryKeyConstraint("template", "leg", name=op.f("pk_gl_mappings")),
    )
    op.create_table(
        "statement_lines",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("merchant_id", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("wallet_account", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(collation="C"), nullable=False),
        sa.Column("asset", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.BigInteger(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Numeric(precision=38, scale=0), nullable=False),
        sa.Column("balance_before_minor", sa.Numeric(precision=38, scale=0), nullable=False),
        sa.Column("balance_after_minor", sa.Numeric(precision=38, scale=0), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inserted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "wallet_account IN ('available', 'reserve', 'holds')",
            name=op.f("ck_statement_lines_wallet_account_known"),
        ),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_statement_lines_nonzero_amount")),
        sa.CheckConstraint(
            "balance_after_minor = balance_before_minor + amount_minor",
            name=op.f("ck_statement_lines_running_balance"),
        ),
        sa.ForeignKeyConstraint(
            ["tx_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_statement_lines_tx_id_ledger_transactions"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_statement_lines")),
        sa.UniqueConstraint(
            "tx_id", "ordinal", "address", name=op.f("uq_statement_lines_tx_id_ordinal_address")
        ),
    )
    op.create_index(
        "ix_statement_lines_wallet_seq",
        "statement_lines",
        ["merchant_id", "currency", "seq"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_statement_lines_wallet_seq", table_name="statement_lines")
    op.drop_table("statement_lines")
    op.drop_table("gl_mappings")
    op.drop_table("statement_cursor")
    op.drop_table("coa_accounts")

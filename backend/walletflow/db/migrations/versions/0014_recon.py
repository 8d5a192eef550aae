"""reconciliation: imported statements, their lines (unique per account by fingerprint), matches

A statement line is stored once per outside account whatever file it came in (the fingerprint
is the line's identity: camt.053, camt.054 and MT940 of the same movement agree on it), so a
file imported twice, or two overlapping files, count each movement once.

Revision ID: 0014_recon
Revises: 0009_jobs
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_recon"
down_revision: str | None = "0009_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recon_statements",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("format", sa.Text(), nullable=False),
        sa.Column("statement_ref", sa.Text(), nullable=False),
        sa.Column("file_fingerprint", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("opening_minor", sa.BigInteger(), nullable=True),
        sa.Column("closing_minor", sa.BigInteger(), nullable=True),
        sa.Column("closing_on", sa.Date(), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("new_line_count", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_statements")),
        sa.UniqueConstraint(
            "account", "file_fingerprint", name=op.f("uq_recon_statements_account_file")
        ),
    )
    op.create_table(
        "recon_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("statement_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("bank_reference", sa.Text(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_recon_lines_amount_positive")),
        sa.CheckConstraint(
            "direction in ('credit', 'debit')", name=op.f("ck_recon_lines_direction")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["recon_statements.id"], name=op.f("fk_recon_lines_statement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_lines")),
        sa.UniqueConstraint("account", "fingerprint", name=op.f("uq_recon_lines_account_fp")),
    )
    op.create_table(
        "recon_matches",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("confidence_pct", sa.Integer(), nullable=False),
        sa.Column("line_ids", sa.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("movement_ids", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("matched_by", sa.Text(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unmatched_by", sa.Text(), nullable=True),
        sa.Column("unmatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recon_matches")),
    )
    op.create_index("ix_recon_lines_account_value_date", "recon_lines", ["account", "value_date"])
    op.create_index("ix_recon_matches_account", "recon_matches", ["account"])


def downgrade() -> None:
    op.drop_index("ix_recon_matches_account", table_name="recon_matches")
    op.drop_index("ix_recon_lines_account_value_date", table_name="recon_lines")
    op.drop_table("recon_matches")
    op.drop_table("recon_lines")
    op.drop_table("recon_statements")

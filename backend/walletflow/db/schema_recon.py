"""Reconciliation tables: imported statements, their lines, and matches.

Invariants the database enforces: a line is stored once per outside account
(`uq_recon_lines_account_fp` on the line's fingerprint), so overlapping or repeated files count
each movement once; a file is recorded once per account (`uq_recon_statements_account_file`);
a line's amount is positive and its direction credit or debit.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY

from walletflow.db.metadata import metadata

recon_statements = Table(
    "recon_statements",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("statement_ref", Text, nullable=False),
    Column("file_fingerprint", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("opening_minor", BigInteger, nullable=True),
    Column("closing_minor", BigInteger, nullable=True),
    Column("closing_on", Date, nullable=True),
    Column("line_count", Integer, nullable=False),
    Column("new_line_count", Integer, nullable=False),
    Column("imported_by", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account", "file_fingerprint", name="uq_recon_statements_account_file"),
)

recon_lines = Table(
    "recon_lines",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("statement_id", BigInteger, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("direction", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("booking_date", Date, nullable=False),
    Column("value_date", Date, nullable=False),
    Column("reference", Text, nullable=False),
    Column("bank_reference", Text, nullable=False),
    Column("narrative", Text, nullable=False),
    CheckConstraint("amount_minor > 0", name="ck_recon_lines_amount_positive"),
    CheckConstraint("direction in ('credit', 'debit')", name="ck_recon_lines_direction"),
    ForeignKeyConstraint(
        ["statement_id"], ["recon_statements.id"], name="fk_recon_lines_statement"
    ),
    UniqueConstraint("account", "fingerprint", name="uq_recon_lines_account_fp"),
    Index("ix_recon_lines_account_value_date", "account", "value_date"),
)

recon_matches = Table(
    "recon_matches",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("confidence_pct", Integer, nullable=False),
    Column("line_ids", ARRAY(BigInteger), nullable=False),
    Column("movement_ids", ARRAY(Text), nullable=False),
    Column("matched_by", Text, nullable=False),
    Column("matched_at", DateTime(timezone=True), nullable=False),
    Column("unmatched_by", Text, nullable=True),
    Column("unmatched_at", DateTime(timezone=True), nullable=True),
    Index("ix_recon_matches_account", "account"),
)

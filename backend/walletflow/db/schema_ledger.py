"""The built-in ledger's tables (see `walletflow.ledger.pg` for the design).

- `ledger_transactions`, `ledger_postings`: append-only (a trigger refuses UPDATE and DELETE).
  `UNIQUE(reference)`; `UNIQUE(reverts_tx_id)` makes a second revert impossible. Each row
  records the inserting database transaction's id (`xid`), which orders the hash chain.
- `ledger_volumes`: per (account, asset, shard) input/output totals, maintained in the same
  database transaction as the postings. `CHECK (may_go_negative OR input >= output)` is the
  database's own overdraft guard (with a trigger refusing a first row that would start
  negative); hot accounts spread over several shard rows.
- `ledger_account_metadata`: account metadata (not money; may change).
- `ledger_log`: the hash chain, appended by the sealer, one entry per transaction.

Account columns use the "C" collation so prefix queries (`LIKE 'merchants:m1:%'`) use the
indexes whatever the database's default collation is.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

AMOUNT = Numeric(38, 0)
ADDRESS = Text(collation="C")

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("reference", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("inserted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column(
        "reverts_tx_id",
        BigInteger,
        ForeignKey("ledger_transactions.id"),
        nullable=True,
    ),
    Column(
        "xid",
        BigInteger,
        nullable=False,
        server_default=text("(pg_current_xact_id())::text::bigint"),
    ),
    UniqueConstraint("reference"),
    UniqueConstraint("reverts_tx_id"),
    Index("ix_ledger_transactions_xid_id", "xid", "id"),
    Index("ix_ledger_transactions_effective_at", "effective_at"),
)

ledger_postings = Table(
    "ledger_postings",
    metadata,
    Column("tx_id", BigInteger, ForeignKey("ledger_transactions.id"), primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("source", ADDRESS, nullable=False),
    Column("destination", ADDRESS, nullable=False),
    Column("asset", Text, nullable=False),
    Column("amount", AMOUNT, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("inserted_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("amount > 0", name="positive_amount"),
    CheckConstraint("source <> destination", name="distinct_accounts"),
    Index("ix_ledger_postings_source_asset", "source", "asset"),
    Index("ix_ledger_postings_destination_asset", "destination", "asset"),
)

ledger_volumes = Table(
    "ledger_volumes",
    metadata,
    Column("account", ADDRESS, primary_key=True),
    Column("asset", Text, primary_key=True),
    Column("shard", SmallInteger, primary_key=True),
    Column("input", AMOUNT, nullable=False, server_default=text("0")),
    Column("output", AMOUNT, nullable=False, server_default=text("0")),
    # NULL only in the row an upsert proposes for a debit of a protected account: it passes the
    # CHECK so the conflict (existing row) path can run, where the existing flag is kept and the
    # CHECK judges the real row; a proposed row actually inserted is refused by a trigger.
    Column("may_go_negative", Boolean, nullable=True),
    CheckConstraint("may_go_negative OR input >= output", name="no_overdraft"),
    CheckConstraint("input >= 0 AND output >= 0", name="nonnegative_volumes"),
)

ledger_account_metadata = Table(
    "ledger_account_metadata",
    metadata,
    Column("address", ADDRESS, primary_key=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

ledger_log = Table(
    "ledger_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("tx_id", BigInteger, ForeignKey("ledger_transactions.id"), nullable=False),
    Column("tx_xid", BigInteger, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("sealed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tx_id"),
)

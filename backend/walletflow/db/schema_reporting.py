"""Tables of the reporting area: the loaded chart of accounts, the GL mappings, and the
statements read model with its cursor.

- `coa_accounts`: one row per account family of the address scheme (`domain/accounts.py`),
  loaded from `seeds/coa.csv` by `rebuildCoa`. `address_regex` is derived from the pattern at
  load, so SQL views can classify ledger addresses without Python.
- `gl_mappings`: template leg → debit and credit GL codes, loaded from `seeds/gl_mappings.csv`.
- `statement_lines`: one row per posting leg touching a merchant wallet account
  (`available`, `reserve`, or one of its payout `holds`), with the wallet account's running
  balance before and after, in application order (`seq`). Rebuilt from the ledger postings by
  `rebuild_statements`; `statement_cursor` records the last ledger transaction applied.
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
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from walletflow.db.metadata import metadata

AMOUNT = Numeric(38, 0)

coa_accounts = Table(
    "coa_accounts",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False, unique=True),
    Column("account_class", Text, nullable=False),
    Column("normal_balance", Text, nullable=False),
    Column("address_pattern", Text, nullable=False),
    Column("address_regex", Text, nullable=False),
    Column("may_go_negative", Boolean, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(
        "account_class IN ('ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE')",
        name="class_known",
    ),
    CheckConstraint("normal_balance IN ('DEBIT', 'CREDIT')", name="normal_balance_known"),
)

gl_mappings = Table(
    "gl_mappings",
    metadata,
    Column("template", Text, nullable=False),
    Column("leg", Text, nullable=False),
    Column("source_kind", Text, nullable=False),
    Column("destination_kind", Text, nullable=False),
    Column("debit_code", Text, ForeignKey("coa_accounts.code"), nullable=False),
    Column("credit_code", Text, ForeignKey("coa_accounts.code"), nullable=False),
    Column("description", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("template", "leg"),
)

statement_lines = Table(
    "statement_lines",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("merchant_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("wallet_account", Text, nullable=False),
    Column("address", Text(collation="C"), nullable=False),
    Column("asset", Text, nullable=False),
    Column("tx_id", BigInteger, ForeignKey("ledger_transactions.id"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("amount_minor", AMOUNT, nullable=False),
    Column("balance_before_minor", AMOUNT, nullable=False),
    Column("balance_after_minor", AMOUNT, nullable=False),
    Column("effective_at", DateTime(timezone=True), nullable=False),
    Column("inserted_at", DateTime(timezone=True), nullable=False),
    Column("reference", Text),
    Column("description", Text, nullable=False),
    CheckConstraint("amount_minor <> 0", name="nonzero_amount"),
    CheckConstraint(
        "balance_after_minor = balance_before_minor + amount_minor", name="running_balance"
    ),
    CheckConstraint(
        "wallet_account IN ('available', 'reserve', 'holds')", name="wallet_account_known"
    ),
    UniqueConstraint("tx_id", "ordinal", "address"),
    Index("ix_statement_lines_wallet_seq", "merchant_id", "currency", "seq"),
)

statement_cursor = Table(
    "statement_cursor",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("last_xid", BigInteger, nullable=False),
    Column("last_tx_id", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("singleton", name="one_row"),
)

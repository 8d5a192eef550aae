"""Tables of the core service: merchants and wallets, payout holds, feature flags, the command
log, the transactional outbox and provider events.

Invariants the database enforces itself (not only the code):
- a hold is settled XOR released (`ck_holds_settle_xor_release`), and its state agrees with
  which completion transaction it carries (`ck_holds_state_matches_completion`);
- a provider event is unique per (provider, provider_reference);
- an outbox event id is unique, so consumers can deduplicate by it.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

merchants = Table(
    "merchants",
    metadata,
    Column("merchant_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("webhook_url", Text),
    Column("webhook_secret", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

wallets = Table(
    "wallets",
    metadata,
    Column("merchant_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("merchant_id", "currency"),
    ForeignKeyConstraint(["merchant_id"], ["merchants.merchant_id"]),
)

holds = Table(
    "holds",
    metadata,
    Column("payout_id", Text, primary_key=True),
    Column("merchant_id", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("asset", Text, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("provider", Text, nullable=False),
    Column("destination", JSONB, nullable=False),
    Column("state", Text, nullable=False),
    Column("reserve_tx_id", BigInteger, nullable=False),
    Column("settle_tx_id", BigInteger),
    Column("release_tx_id", BigInteger),
    Column("provider_reference", Text),
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("state_changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("merchant_payout_id", Text),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(
        "state IN ('reserved', 'settled', 'released', 'manual_review')", name="state_known"
    ),
    CheckConstraint("settle_tx_id IS NULL OR release_tx_id IS NULL", name="settle_xor_release"),
    CheckConstraint(
        "(state = 'settled') = (settle_tx_id IS NOT NULL)"
        " AND (state = 'released') = (release_tx_id IS NOT NULL)",
        name="state_matches_completion",
    ),
    ForeignKeyConstraint(["merchant_id", "currency"], ["wallets.merchant_id", "wallets.currency"]),
    ForeignKeyConstraint(["reserve_tx_id"], ["ledger_transactions.id"]),
    ForeignKeyConstraint(["settle_tx_id"], ["ledger_transactions.id"]),
    ForeignKeyConstraint(["release_tx_id"], ["ledger_transactions.id"]),
    # A payout id a merchant supplies is unique within that merchant only.
    UniqueConstraint("merchant_id", "merchant_payout_id"),
    Index("ix_holds_state_created", "state", "created_at"),
    Index("ix_holds_merchant_state", "merchant_id", "state"),
)

feature_flags = Table(
    "feature_flags",
    metadata,
    Column("scope_type", Text, nullable=False),
    Column("scope_value", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("scope_type", "scope_value"),
    CheckConstraint("scope_type IN ('merchant', 'currency', 'provider')", name="scope_known"),
)

command_log = Table(
    "command_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("command", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("error_code", Text),
    Column("reference", Text),
    Column("transaction_id", BigInteger),
    Column("merchant_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('completed', 'failed')", name="status_known"),
    Index("ix_command_log_created", "created_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("merchant_id", Text),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
)

provider_events = Table(
    "provider_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("provider", Text, nullable=False),
    Column("provider_reference", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("body_hash", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deliveries", Integer, nullable=False, server_default=text("1")),
    UniqueConstraint("provider", "provider_reference"),
)

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("base_currency", Text, nullable=False),
    Column("quote_currency", Text, nullable=False),
    Column("rate", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("base_currency", "quote_currency"),
    CheckConstraint("base_currency <> quote_currency", name="distinct_currencies"),
)

fx_quotes = Table(
    "fx_quotes",
    metadata,
    Column("quote_id", Text, primary_key=True),
    Column("merchant_id", Text, nullable=False),
    Column("sell_currency", Text, nullable=False),
    Column("buy_currency", Text, nullable=False),
    Column("sell_amount_minor", BigInteger, nullable=False),
    Column("buy_amount_minor", BigInteger, nullable=False),
    Column("rate", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deal_tx_id", BigInteger, unique=True),
    ForeignKeyConstraint(["deal_tx_id"], ["ledger_transactions.id"]),
    ForeignKeyConstraint(["merchant_id"], ["merchants.merchant_id"]),
    CheckConstraint("sell_amount_minor > 0 AND buy_amount_minor > 0", name="amounts_positive"),
)

access_lists = Table(
    "access_lists",
    metadata,
    Column("email", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("email", "role"),
    CheckConstraint("role IN ('operator', 'admin')", name="role_known"),
)

access_lists_saved = Table(
    "access_lists_saved",
    metadata,
    # One row once saveAccessLists has run: from then on the database lists override the
    # OPS_ALLOWED_EMAILS / OPS_ADMIN_EMAILS settings (an empty saved list is a real "nobody").
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("saved_by", Text, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("singleton", name="one_row"),
)

loaded_templates = Table(
    "loaded_templates",
    metadata,
    Column("name", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("loaded_by", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)

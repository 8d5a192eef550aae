"""The API's own tables: API keys for merchants and analysts (secrets hashed at rest)."""

from sqlalchemy import CheckConstraint, Column, DateTime, Index, Table, Text, func

from walletflow.db.metadata import metadata

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    # sha256 of the secret part, hex: the secret itself is shown once and never stored.
    Column("secret_sha256", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("merchant_id", Text),
    Column("label", Text, nullable=False, server_default=""),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint("role IN ('merchant', 'analyst')", name="api_key_role"),
    CheckConstraint(
        "(role = 'merchant') = (merchant_id IS NOT NULL)", name="api_key_merchant_scope"
    ),
    Index("ix_api_keys_merchant_id", "merchant_id"),
)

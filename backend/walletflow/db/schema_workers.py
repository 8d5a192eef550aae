"""Tables of the workers: merchant webhook deliveries and payout sagas.

Both are work queues claimed with leases (`lease_owner`, `lease_expires_at`) so several workers
can run at once and a worker killed at any point is replaced once its lease expires.
Invariants the database enforces itself:
- one delivery row per (event, merchant), one saga per payout;
- a delivery is delivered XOR dead-lettered; attempts never go negative;
- a saga's state is one of the known states.
"""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Text, nullable=False),
    Column("merchant_id", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Column("dead_lettered_at", DateTime(timezone=True)),
    Column("lease_owner", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("event_id", "merchant_id"),
    CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    CheckConstraint(
        "delivered_at IS NULL OR dead_lettered_at IS NULL", name="delivered_xor_dead_lettered"
    ),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        postgresql_where=text("delivered_at IS NULL AND dead_lettered_at IS NULL"),
    ),
)

SAGA_STATES = (
    "pending_submit",
    "submitted",
    "requerying",
    "completing",
    "done",
    "manual_review",
)

payout_sagas = Table(
    "payout_sagas",
    metadata,
    Column("payout_id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completion", Text),
    Column("provider_reference", Text),
    Column("last_outcome", JSONB),
    Column("last_error", Text),
    Column("lease_owner", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "state IN ('pending_submit', 'submitted', 'requerying', 'completing', 'done',"
        " 'manual_review')",
        name="state_known",
    ),
    CheckConstraint(
        "completion IS NULL OR completion IN ('settle', 'release', 'manual_review')",
        name="completion_known",
    ),
    CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    Index(
        "ix_payout_sagas_due",
        "next_attempt_at",
        postgresql_where=text("state NOT IN ('done', 'manual_review')"),
    ),
)

"""audit and approvals: append-only hash-chained audit log, approval policies, requests, decisions

The append-only tables reuse `ledger_refuse_change()` from 0002_ledger (one rule, one place).

Revision ID: 0011_audit_approvals
Revises: 0007_merge_areas
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_audit_approvals"
down_revision: str | None = "0007_merge_areas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("audit_log", "audit_chain", "approval_requests", "approval_decisions")


def upgrade() -> None:
    op.create_table(
        "approval_policies",
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column(
            "thresholds",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("command", name=op.f("pk_approval_policies")),
    )
    op.create_table(
        "approval_requests",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("requested_role", sa.Text(), nullable=False),
        sa.Column("merchant_id", sa.Text(), nullable=True),
        sa.Column("input", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "summary",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_approval_requests_expires_after_created")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_approval_requests")),
        sa.UniqueConstraint(
            "request_id", "requested_by", name=op.f("uq_approval_requests_request_id_requested_by")
        ),
        sa.UniqueConstraint(
            "scope", "idempotency_key", name=op.f("uq_approval_requests_scope_idempotency_key")
        ),
    )
    op.create_index(
        "ix_approval_requests_created_at", "approval_requests", ["created_at"], unique=False
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id())::text::bigint"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("merchant_id", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.Text(), nullable=True),
        sa.Column("break_glass", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source_ip", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome IN ('success', 'failure', 'replay', 'refused', 'pending')",
            name=op.f("ck_audit_log_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_actor_id", "audit_log", ["actor", "id"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_log_command_id", "audit_log", ["command", "id"], unique=False)
    op.create_index("ix_audit_log_merchant_id_id", "audit_log", ["merchant_id", "id"], unique=False)
    op.create_index("ix_audit_log_xid_id", "audit_log", ["xid", "id"], unique=False)
    op.create_table(
        "approval_decisions",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_role", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approved', 'rejected')",
            name=op.f("ck_approval_decisions_decision_known"),
        ),
        sa.CheckConstraint(
            "decided_by <> requested_by", name=op.f("ck_approval_decisions_four_eyes")
        ),
        sa.CheckConstraint(
            "length(btrim(reason)) > 0", name=op.f("ck_approval_decisions_reason_given")
        ),
        sa.ForeignKeyConstraint(
            ["request_id", "requested_by"],
            ["approval_requests.request_id", "approval_requests.requested_by"],
            name=op.f("fk_approval_decisions_request_id_approval_requests"),
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_approval_decisions")),
    )
    op.create_table(
        "audit_chain",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_xid", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column(
            "sealed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["audit_log.id"], name=op.f("fk_audit_chain_entry_id_audit_log")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_audit_chain_entry_id")),
    )
    for table_name in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table_name}_append_only BEFORE UPDATE OR DELETE ON {table_name} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
        )


def downgrade() -> None:
    for table_name in APPEND_ONLY_TABLES:
        op.execute(f"DROP TRIGGER {table_name}_append_only ON {table_name}")
    op.drop_table("audit_chain")
    op.drop_table("approval_decisions")
    op.drop_index("ix_audit_log_xid_id", table_name="audit_log")
    op.drop_index("ix_audit_log_merchant_id_id", table_name="audit_log")
    op.drop_index("ix_audit_log_command_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_approval_requests_created_at", table_name="approval_requests")
    op.drop_table("approval_requests")
    op.drop_table("approval_policies")

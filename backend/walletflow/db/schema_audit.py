"""Governance tables: the audit trail and maker-checker approvals.

Invariants the database enforces itself (not only the code):
- `audit_log`, `audit_chain`, `approval_requests` and `approval_decisions` are append-only
  (UPDATE and DELETE refused by triggers, like the ledger's tables);
- an audit outcome is one of the known outcomes (`ck_audit_log_outcome_known`);
- a request is decided at most once (`approval_decisions` is keyed by `request_id`), by someone
  other than who asked: the decision carries the requester, pinned to the request by a
  composite foreign key, and `ck_approval_decisions_four_eyes` refuses decided_by = requested_by;
- one request per (scope, idempotency key): resubmitting finds the pending request.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

AUDIT_OUTCOMES = ("success", "failure", "replay", "refused", "pending")

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # The database transaction that appended the row: the sealer chains rows in (xid, id)
    # order once that transaction has finished (see audit/chain.py).
    Column(
        "xid",
        BigInteger,
        nullable=False,
        server_default=text("(pg_current_xact_id())::text::bigint"),
    ),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("command", Text),
    Column("merchant_id", Text),
    Column("error_code", Text),
    Column("idempotency_key", Text),
    Column("request_hash", Text),
    Column("break_glass", Boolean, nullable=False, server_default=text("false")),
    Column("source_ip", Text),
    Column("user_agent", Text),
    Column("request_id", Text),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint(
        "outcome IN (" + ", ".join(f"'{o}'" for o in AUDIT_OUTCOMES) + ")",
        name="outcome_known",
    ),
    Index("ix_audit_log_xid_id", "xid", "id"),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_merchant_id_id", "merchant_id", "id"),
    Index("ix_audit_log_actor_id", "actor", "id"),
    Index("ix_audit_log_command_id", "command", "id"),
)

audit_chain = Table(
    "audit_chain",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_id", BigInteger, nullable=False, unique=True),
    Column("entry_xid", BigInteger, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("sealed_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    ForeignKeyConstraint(["entry_id"], ["audit_log.id"]),
)

approval_policies = Table(
    "approval_policies",
    metadata,
    # A row overrides the registry's default (CommandSpec.four_eyes) for one command; changed
    # only by the setApprovalPolicy command, itself under four eyes.
    Column("command", Text, primary_key=True),
    Column("four_eyes", Boolean, nullable=False),
    # {"NGN": 100000}: an amount below this many minor units of that currency needs no approval.
    Column("thresholds", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_by", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

approval_requests = Table(
    "approval_requests",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("command", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("requested_role", Text, nullable=False),
    Column("merchant_id", Text),
    Column("input", JSONB, nullable=False),
    Column("summary", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("scope", "idempotency_key"),
    UniqueConstraint("request_id", "requested_by"),
    CheckConstraint("expires_at > created_at", name="expires_after_created"),
    Index("ix_approval_requests_created_at", "created_at"),
)

approval_decisions = Table(
    "approval_decisions",
    metadata,
    Column("request_id", Text, primary_key=True),
    Column("requested_by", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("decided_role", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["request_id", "requested_by"],
        ["approval_requests.request_id", "approval_requests.requested_by"],
    ),
    CheckConstraint("decision IN ('approved', 'rejected')", name="decision_known"),
    CheckConstraint("decided_by <> requested_by", name="four_eyes"),
    CheckConstraint("length(btrim(reason)) > 0", name="reason_given"),
)

"""Long jobs (full statement rebuilds, …): one row per job, the queue and its status at once.

A command queues a job in its own transaction (so the same idempotency key answers the same
job id forever); a worker claims it with a lease, writes its progress while it runs, and ends
it `done` with a result or `failed` with a typed error. Invariants the database enforces:
- the state is one of the known states, and a job has `finished_at` exactly when it ended;
- progress and attempts are never negative.

An export's output (CSV) is kept beside its job in `job_outputs`, in parts of at most
`JOB_OUTPUT_PART_BYTES` (written while the job runs; served only once it ended `done`), and
removed with it.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from walletflow.db.metadata import metadata

JOB_STATES = ("queued", "running", "done", "failed")

jobs = Table(
    "jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("state", Text, nullable=False, server_default=text("'queued'")),
    Column("progress_done", BigInteger, nullable=False, server_default=text("0")),
    Column("progress_total", BigInteger),
    Column("result", JSONB),
    Column("error", JSONB),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("requested_by", Text, nullable=False),
    Column("command", Text),
    Column("trace_parent", Text),
    Column("lease_owner", Text),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state_known"),
    CheckConstraint(
        "(state IN ('done', 'failed')) = (finished_at IS NOT NULL)", name="finished_when_ended"
    ),
    CheckConstraint(
        "progress_done >= 0 AND (progress_total IS NULL OR progress_total >= 0)",
        name="progress_non_negative",
    ),
    CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    Index(
        "ix_jobs_open",
        "created_at",
        postgresql_where=text("state IN ('queued', 'running')"),
    ),
    Index("ix_jobs_created_at", "created_at"),
)

JOB_OUTPUT_PART_BYTES = 1 << 20

job_outputs = Table(
    "job_outputs",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    CheckConstraint("part >= 0", name="part_non_negative"),
)

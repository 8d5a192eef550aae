"""Long jobs: what a command queues instead of doing the work inside the request.

A handler calls `queue_job(uow, kind, params)`: the job row is inserted in the command's own
unit of work, next to its idempotency claim, so a replay with the same key returns the same
job id and a failed command queues nothing. A worker runs it (`walletflow.workers.jobs`) and
records progress and the outcome in the row; `walletflow.views.jobs` reads it back for the
GraphQL `job(id)` query, the `jobProgress` subscription, the dashboard and `walletflow jobs`.
"""

from __future__ import annotations

import uuid
from typing import Any

from walletflow.db.schema_jobs import jobs
from walletflow.observability.tracing import current_traceparent
from walletflow.service.unit_of_work import UnitOfWork

STATEMENTS_FULL_REBUILD = "statements.full_rebuild"
COA_REBUILD = "coa.rebuild"
POSTINGS_EXPORT = "export.postings"
JOB_KINDS = frozenset({STATEMENTS_FULL_REBUILD, COA_REBUILD, POSTINGS_EXPORT})
JOB_QUEUED_EVENT = "job.queued"


async def queue_job(uow: UnitOfWork, kind: str, params: dict[str, Any]) -> str:
    """Insert a queued job in the command's transaction and announce it (`job.queued`);
    return its id. The worker's dispatcher picks it up within a second."""
    assert kind in JOB_KINDS, kind
    job_id = f"job_{uuid.uuid4().hex}"
    context = uow.context
    now = uow.clock.now()
    await uow.connection.execute(
        jobs.insert().values(
            id=job_id,
            kind=kind,
            params=params,
            state="queued",
            requested_by=context.principal.subject,
            command=context.command,
            trace_parent=current_traceparent(),
            created_at=now,
            updated_at=now,
        )
    )
    uow.emit(JOB_QUEUED_EVENT, {"jobId": job_id, "kind": kind, "params": params}, None)
    return job_id

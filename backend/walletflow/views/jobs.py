"""Long jobs, read back: one job by id, the newest jobs, an export's output. For the GraphQL
`job(id)` / `jobs` queries, the `jobProgress` subscription, the dashboard's jobs panel and
`walletflow jobs`. Jobs are operations data: staff and analysts read them, merchants do not
(the one visibility rule). Queued by `walletflow.service.jobs`, run by `walletflow.workers.jobs`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_jobs import JOB_STATES, job_outputs, jobs
from walletflow.domain.errors import Conflict, NotFound, ValidationError
from walletflow.views.visibility import Visibility

TERMINAL_STATES = frozenset({"done", "failed"})
JOB_ID_RE = re.compile(r"^job_[0-9a-f]{32}\Z")
MAX_LIST = 100


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    state: str
    params: dict[str, Any]
    progress_done: int
    progress_total: int | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    attempts: int
    requested_by: str
    command: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def percent(self) -> float | None:
        """Progress in percent, when the total is known (100 once done)."""
        if self.state == "done":
            return 100.0
        if not self.progress_total:
            return None
        return round(min(100.0, 100.0 * self.progress_done / self.progress_total), 1)

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "params": self.params,
            "progressDone": self.progress_done,
            "progressTotal": self.progress_total,
            "percent": self.percent,
            "result": self.result,
            "error": self.error,
            "attempts": self.attempts,
            "requestedBy": self.requested_by,
            "command": self.command,
            "createdAt": iso(self.created_at),
            "startedAt": iso(self.started_at),
            "updatedAt": iso(self.updated_at),
            "finishedAt": iso(self.finished_at),
        }


def check_job_id(job_id: object) -> str:
    """A job id as `queue_job` makes them; anything else is a typed VALIDATION_ERROR."""
    if not isinstance(job_id, str) or not JOB_ID_RE.match(job_id):
        raise ValidationError("not a job id", field_errors={"id": "job_<32 hex digits>"})
    return job_id


def _job(row: Any) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        state=row.state,
        params=dict(row.params or {}),
        progress_done=int(row.progress_done),
        progress_total=None if row.progress_total is None else int(row.progress_total),
        result=row.result,
        error=row.error,
        attempts=int(row.attempts),
        requested_by=row.requested_by,
        command=row.command,
        created_at=row.created_at,
        started_at=row.started_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )


async def get_job(connection: AsyncConnection, visibility: Visibility, job_id: str) -> Job:
    visibility.require_everything()
    row = (await connection.execute(select(jobs).where(jobs.c.id == check_job_id(job_id)))).first()
    if row is None:
        raise NotFound(f"no job {job_id}", details={"jobId": job_id})
    return _job(row)


async def list_jobs(
    connection: AsyncConnection,
    visibility: Visibility,
    *,
    state: str | None = None,
    limit: int = 20,
) -> list[Job]:
    """The newest jobs first (optionally in one state)."""
    visibility.require_everything()
    if not 1 <= limit <= MAX_LIST:
        raise ValidationError(
            f"first must be between 1 and {MAX_LIST}", field_errors={"first": f"1..{MAX_LIST}"}
        )
    statement = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.id).limit(limit)
    if state is not None:
        if state not in JOB_STATES:
            raise ValidationError("unknown job state", field_errors={"state": "|".join(JOB_STATES)})
        statement = statement.where(jobs.c.state == state)
    return [_job(row) for row in await connection.execute(statement)]


async def job_output(
    connection: AsyncConnection, visibility: Visibility, job_id: str
) -> AsyncIterator[str]:
    """The output an export job wrote, part by part (IllegalState while it has not ended
    `done`; an empty iteration for a job that writes none)."""
    job = await get_job(connection, visibility, job_id)
    if job.state != "done":
        raise Conflict(f"job {job_id} is {job.state}: its output exists once it is done")
    statement = (
        select(job_outputs.c.body)
        .where(job_outputs.c.job_id == job_id)
        .order_by(job_outputs.c.part)
    )
    for row in await connection.execute(statement):
        yield str(row.body)

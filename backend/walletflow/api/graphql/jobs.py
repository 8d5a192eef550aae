# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Long jobs on the read side: `job(id)`, `jobs(first, state)` and the `jobProgress(id)`
subscription (staff and analysts; merchants see no jobs).

`jobProgress` reads the job row every `PROGRESS_POLL_MS` and sends it when it changed; it ends
after sending the job in a final state (`done` or `failed`). A caller without websockets polls
`job(id)` instead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.scalars import JSON, BigInt
from walletflow.api.graphql.subscriptions import RECHECK_INTERVAL_S, typed_errors
from walletflow.views import jobs as job_views

PROGRESS_POLL_MS = 500


@strawberry.type(description="A long job (a full statements rebuild, …) and its progress.")
class Job:
    id: str
    kind: str
    state: str = strawberry.field(description="queued, running, done or failed")
    progress_done: BigInt
    progress_total: BigInt | None
    percent: float | None = strawberry.field(description="0-100 when the total is known")
    result: JSON | None
    error: JSON | None = strawberry.field(description="{code, message} when failed")
    attempts: int
    requested_by: str
    command: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None


def job_node(job: job_views.Job) -> Job:
    return Job(
        id=job.id,
        kind=job.kind,
        state=job.state,
        progress_done=BigInt(job.progress_done),
        progress_total=None if job.progress_total is None else BigInt(job.progress_total),
        percent=job.percent,
        result=None if job.result is None else JSON(job.result),
        error=None if job.error is None else JSON(job.error),
        attempts=job.attempts,
        requested_by=job.requested_by,
        command=job.command,
        created_at=job.created_at,
        started_at=job.started_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


async def read_job(context: GraphQLContext, job_id: str) -> job_views.Job:
    async with context.container.engine.connect() as connection:
        return await job_views.get_job(connection, context.visibility, job_id)


@strawberry.type
class JobsQuery:
    @strawberry.field(description="One long job by id (NOT_FOUND when there is none).")
    async def job(self, info: Info, id: str) -> Job:
        return job_node(await read_job(info.context, id))

    @strawberry.field(description="The newest long jobs (optionally in one state).")
    async def jobs(self, info: Info, first: int = 20, state: str | None = None) -> list[Job]:
        context = info.context
        async with context.container.engine.connect() as connection:
            found = await job_views.list_jobs(
                connection, context.visibility, state=state, limit=first
            )
        return [job_node(job) for job in found]


@strawberry.type
class JobsSubscription:
    @strawberry.subscription(
        description="A job's progress: now, then each change, ending once it is done or failed."
    )
    async def job_progress(self, info: Info, id: str) -> AsyncGenerator[Job, None]:
        with typed_errors():
            context = info.context
            current = await read_job(context, id)
            yield job_node(current)
            checked = time.monotonic()
            while not current.finished:
                await asyncio.sleep(PROGRESS_POLL_MS / 1000)
                if time.monotonic() - checked >= RECHECK_INTERVAL_S:
                    await context.recheck()
                    checked = time.monotonic()
                fresh = await read_job(context, id)
                if fresh != current:
                    current = fresh
                    yield job_node(current)

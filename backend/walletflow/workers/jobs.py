"""The long-job runner: the worker side of `walletflow.service.jobs`.

`dispatch_jobs` (a cron, every second) hands each due job — queued, or running under an
expired lease (its worker died) — to arq as `run_job(job_id)` with the arq job id
`job:<id>:<attempt>`, so a job is queued in arq at most once per attempt however often the
dispatcher runs. `run_job` claims the row with a lease (a second delivery finds it claimed and
skips), runs the kind's runner, writes progress and renews the lease every
`PROGRESS_FLUSH_S` while it runs, and ends the row `done` with the result or `failed` with a
typed error, together with a `job.finished` outbox event. After `MAX_ATTEMPTS` claims that
never ended (a worker killed each time), the dispatcher fails the job instead of retrying.

A runner is `async (JobRun) -> dict` and reports progress through `run.progress(done, total)`.
The runners: a full statements rebuild, a COA rebuild from the seed files, and a postings
export (CSV into `job_outputs`, read in one REPEATABLE READ snapshot so the rows and the count
agree; parts a lost attempt wrote are deleted when the next one starts, and are never served,
since output is read only from a job that ended `done`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.coa.store import rebuild_coa
from walletflow.config import LedgerBackend
from walletflow.db.schema_jobs import JOB_OUTPUT_PART_BYTES, job_outputs
from walletflow.domain.errors import NotFound, Unavailable, WalletflowError
from walletflow.observability.metrics import job_run
from walletflow.observability.tracing import span
from walletflow.service.jobs import COA_REBUILD, POSTINGS_EXPORT, STATEMENTS_FULL_REBUILD
from walletflow.views.pages import MAX_PAGE_SIZE, encode_cursor
from walletflow.views.postings import PostingFilter, count_postings, list_postings
from walletflow.views.visibility import EVERYTHING
from walletflow.workers.statements import run_statements_rebuild

log = logging.getLogger(__name__)

JOB_LEASE_S = 30.0
PROGRESS_FLUSH_S = 0.5
MAX_ATTEMPTS = 3
DISPATCH_BATCH = 20
LONG_JOB_TIMEOUT_S = 3600
LOCK_WAIT_S = 0.5
LOCK_WAIT_MAX_TRIES = 1200
"""A full rebuild waits (bounded) while an incremental one holds the statements lock."""
JOB_FINISHED_EVENT = "job.finished"


@dataclass
class JobRun:
    """What a runner gets: its job, the engine and Redis, and the progress callback."""

    job_id: str
    kind: str
    params: dict[str, Any]
    engine: AsyncEngine
    redis: Any
    ledger_backend: LedgerBackend = LedgerBackend.POSTGRES
    done: int = 0
    total: int | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def progress(self, done: int, total: int | None) -> None:
        assert done >= 0 and (total is None or total >= 0), (done, total)
        self.done, self.total = done, total
        self.changed.set()


Runner = Callable[[JobRun], Awaitable[dict[str, Any]]]


async def rebuild_statements_in_full(run: JobRun) -> dict[str, Any]:
    """Delete the statement lines and reapply every posting (one transaction)."""
    for _ in range(LOCK_WAIT_MAX_TRIES):
        report = await run_statements_rebuild(
            run.engine, run.redis, full=True, progress=run.progress
        )
        if report.get("state") != "skipped":
            return report
        await asyncio.sleep(LOCK_WAIT_S)
    raise Unavailable("another statements rebuild held the lock too long; retry")


async def rebuild_chart_of_accounts(run: JobRun) -> dict[str, Any]:
    """Replace the loaded COA and GL mappings with the seed files' (one transaction)."""
    run.progress(0, 1)
    async with run.engine.begin() as connection:
        counts = await rebuild_coa(connection)
    run.progress(1, 1)
    return {"coaAccounts": counts["coa_accounts"], "glMappings": counts["gl_mappings"]}


EXPORT_COLUMNS = (
    "tx_id",
    "ordinal",
    "effective_at",
    "source",
    "destination",
    "asset",
    "amount_minor",
)


async def export_postings(run: JobRun) -> dict[str, Any]:
    """The postings of the job's range as CSV (header first, newest transaction first), into
    `job_outputs` in parts of at most JOB_OUTPUT_PART_BYTES; the result counts and hashes it."""
    params = run.params
    criteria: dict[str, Any] = {
        "account": params.get("account"),
        "asset": params.get("asset"),
        "from_time": datetime.fromisoformat(params["fromTime"]),
        "to_time": datetime.fromisoformat(params["toTime"]),
    }
    async with run.engine.begin() as connection:  # a takeover starts from nothing
        await connection.execute(delete(job_outputs).where(job_outputs.c.job_id == run.job_id))
    digest = hashlib.sha256()
    rows = parts = size = 0
    pending = io.StringIO()
    writer = csv.writer(pending, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)

    async def flush() -> None:
        nonlocal parts, size
        body = pending.getvalue()
        if not body:
            return
        encoded = body.encode()
        digest.update(encoded)
        size += len(encoded)
        async with run.engine.begin() as connection:
            await connection.execute(
                insert(job_outputs).values(job_id=run.job_id, part=parts, body=body)
            )
        parts += 1
        pending.seek(0)
        pending.truncate()

    async with run.engine.connect() as snapshot:
        await snapshot.execution_options(isolation_level="REPEATABLE READ")
        async with snapshot.begin():
            backend = run.ledger_backend
            total = await count_postings(snapshot, EVERYTHING, backend, PostingFilter(**criteria))
            run.progress(0, total)
            after: str | None = None
            while True:
                page = await list_postings(
                    snapshot, EVERYTHING, backend, first=MAX_PAGE_SIZE, after=after, **criteria
                )
                found = list(page.rows[: page.size])
                for posting in found:
                    writer.writerow(
                        (
                            posting.tx_id,
                            posting.ordinal,
                            posting.effective_at.isoformat(),
                            posting.source,
                            posting.destination,
                            posting.asset,
                            posting.amount_minor,
                        )
                    )
                rows += len(found)
                run.progress(rows, total)
                if pending.tell() >= JOB_OUTPUT_PART_BYTES // 2:
                    await flush()
                if len(page.rows) <= page.size:
                    break
                after = encode_cursor([found[-1].tx_id, found[-1].ordinal])
    await flush()
    return {"rows": rows, "bytes": size, "parts": parts, "sha256": digest.hexdigest()}


RUNNERS: dict[str, Runner] = {
    STATEMENTS_FULL_REBUILD: rebuild_statements_in_full,
    COA_REBUILD: rebuild_chart_of_accounts,
    POSTINGS_EXPORT: export_postings,
}

_CLAIM_SQL = text(
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = :owner,"
    " lease_expires_at = now() + make_interval(secs => :lease_s),"
    " started_at = coalesce(started_at, now()), updated_at = now()"
    " WHERE id = :id AND attempts < :max_attempts AND (state = 'queued'"
    "   OR (state = 'running' AND lease_expires_at < now()))"
    " RETURNING kind, params, attempts, trace_parent"
)
_PROGRESS_SQL = text(
    "UPDATE jobs SET progress_done = :done, progress_total = :total, updated_at = now(),"
    " lease_expires_at = now() + make_interval(secs => :lease_s)"
    " WHERE id = :id AND lease_owner = :owner AND state = 'running'"
)
_FINISH_SQL = text(
    "WITH ended AS ("
    "  UPDATE jobs SET state = :state, result = CAST(:result AS JSONB),"
    "   error = CAST(:error AS JSONB), progress_done = :done, progress_total = :total,"
    "   finished_at = now(), updated_at = now(), lease_owner = NULL, lease_expires_at = NULL"
    "  WHERE id = :id AND lease_owner = :owner AND state = 'running'"
    "  RETURNING id, kind, state)"
    " INSERT INTO outbox (event_id, event_type, merchant_id, payload)"
    " SELECT CAST(:event_id AS TEXT), CAST(:event_type AS TEXT), NULL,"
    "  jsonb_build_object('jobId', id, 'kind', kind, 'state', state,"
    "   'eventId', CAST(:event_id AS TEXT), 'type', CAST(:event_type AS TEXT))"
    " FROM ended RETURNING 1"
)
_EXHAUSTED_SQL = text(
    "UPDATE jobs SET state = 'failed', finished_at = now(), updated_at = now(),"
    " lease_owner = NULL, lease_expires_at = NULL,"
    " error = jsonb_build_object('code', 'JOB_ABANDONED', 'message',"
    "   'the job was started ' || attempts || ' times and never finished')"
    " WHERE attempts >= :max_attempts AND (state = 'queued'"
    "   OR (state = 'running' AND lease_expires_at < now()))"
    " RETURNING id"
)
_DUE_SQL = text(
    "SELECT id, attempts FROM jobs"
    " WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < now())"
    " ORDER BY created_at LIMIT :batch"
)


def arq_job_id(job_id: str, attempts: int) -> str:
    return f"job:{job_id}:{attempts}"


async def dispatch_jobs(engine: AsyncEngine, redis: Any) -> dict[str, int]:
    """Fail the jobs out of attempts, then queue the due ones in arq (deduplicated)."""
    async with engine.begin() as connection:
        abandoned = (await connection.execute(_EXHAUSTED_SQL, {"max_attempts": MAX_ATTEMPTS})).all()
        due = (await connection.execute(_DUE_SQL, {"batch": DISPATCH_BATCH})).all()
    for row in abandoned:
        log.error("job %s abandoned after %d attempts", row.id, MAX_ATTEMPTS)
    queued = 0
    for row in due:
        job = await redis.enqueue_job(
            "run_job", row.id, _job_id=arq_job_id(str(row.id), int(row.attempts))
        )
        queued += job is not None
    return {"due": len(due), "queued": queued, "abandoned": len(abandoned)}


async def execute_job(
    engine: AsyncEngine,
    redis: Any,
    job_id: str,
    owner: str,
    *,
    lease_s: float = JOB_LEASE_S,
    runners: dict[str, Runner] | None = None,
    ledger_backend: LedgerBackend = LedgerBackend.POSTGRES,
) -> dict[str, Any]:
    """Claim `job_id`, run it, record the outcome. Returns `{"state": …}` (`skipped` when
    another worker holds it or it has ended)."""
    async with engine.begin() as connection:
        claimed = (
            await connection.execute(
                _CLAIM_SQL,
                {"id": job_id, "owner": owner, "lease_s": lease_s, "max_attempts": MAX_ATTEMPTS},
            )
        ).first()
    if claimed is None:
        return {"state": "skipped", "jobId": job_id}
    kind = str(claimed.kind)
    run = JobRun(
        job_id=job_id,
        kind=kind,
        params=dict(claimed.params or {}),
        engine=engine,
        redis=redis,
        ledger_backend=ledger_backend,
    )
    runner = (runners or RUNNERS).get(kind)
    stop = asyncio.Event()

    async def heartbeat() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROGRESS_FLUSH_S)
            try:
                async with engine.begin() as connection:
                    await connection.execute(
                        _PROGRESS_SQL,
                        {
                            "id": job_id,
                            "owner": owner,
                            "done": run.done,
                            "total": run.total,
                            "lease_s": lease_s,
                        },
                    )
            except Exception as error:
                log.warning("job %s: progress not recorded: %s", job_id, error)

    with (
        job_run(kind) as report_outcome,
        span(
            f"job {kind}",
            kind="consumer",
            parent=claimed.trace_parent,
            attributes={"walletflow.job.id": job_id, "walletflow.job.attempt": claimed.attempts},
        ),
    ):
        beating = asyncio.create_task(heartbeat())
        state, result, error = "failed", None, None
        try:
            if runner is None:
                raise NotFound(f"no runner for job kind {kind!r}")
            result = await runner(run)
            state = "done"
        except WalletflowError as failure:
            error = failure.to_dict()
            log.info("job %s (%s) failed: %s %s", job_id, kind, failure.code, failure.message)
        except Exception as failure:
            error = {"code": "INTERNAL_ERROR", "message": type(failure).__name__}
            log.exception("job %s (%s) failed", job_id, kind)
        finally:
            stop.set()
            await beating
        report_outcome(state)
        await _finish(engine, job_id, owner, run, state, result, error)
    return {"state": state, "jobId": job_id, **({"result": result} if result else {})}


async def _finish(
    engine: AsyncEngine,
    job_id: str,
    owner: str,
    run: JobRun,
    state: str,
    result: dict[str, Any] | None,
    error: dict[str, Any] | None,
) -> None:
    done = run.done
    total = run.total
    if state == "done" and total is not None:
        done = max(done, total)
    async with engine.begin() as connection:
        ended = (
            await connection.execute(
                _FINISH_SQL,
                {
                    "id": job_id,
                    "owner": owner,
                    "state": state,
                    "result": None if result is None else json.dumps(result, default=str),
                    "error": None if error is None else json.dumps(error, default=str),
                    "done": done,
                    "total": total,
                    "event_id": str(uuid.uuid4()),
                    "event_type": JOB_FINISHED_EVENT,
                },
            )
        ).all()
    if not ended:
        log.warning(
            "job %s ended %s after its lease was lost; the outcome is not recorded", job_id, state
        )

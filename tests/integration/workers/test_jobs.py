"""Long jobs leave the request: `rebuildStatements(full: true)` answers a job id at once (the
same id for the same key), a worker runs the job under a lease with visible progress, a second
delivery or a dead worker never runs it twice at once, and a job that keeps dying is failed,
not retried forever. One test runs it all through a real `walletflow worker` process, reads its
`/metrics` as Prometheus text and follows the job with `walletflow jobs status --follow`."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.workers.conftest import Run
from tests.integration.workers.test_kill_worker import wait_for, worker_process
from walletflow.config import LedgerBackend
from walletflow.db.schema_service import outbox
from walletflow.domain.errors import Conflict, Unavailable, ValidationError
from walletflow.service.jobs import STATEMENTS_FULL_REBUILD
from walletflow.views.jobs import Job, get_job, job_output
from walletflow.views.postings import list_postings
from walletflow.views.visibility import EVERYTHING
from walletflow.workers.jobs import (
    EXPORT_COLUMNS,
    MAX_ATTEMPTS,
    JobRun,
    dispatch_jobs,
    execute_job,
)

WAIT_S = 10.0


async def queue_full_rebuild(run: Run, key: str) -> str:
    outcome = await run("rebuildStatements", key=key, full=True)
    assert outcome.result.data["state"] == "queued"
    job_id: str = outcome.result.data["jobId"]
    return job_id


async def job(engine: AsyncEngine, job_id: str) -> Job:
    async with engine.connect() as connection:
        return await get_job(connection, EVERYTHING, job_id)


async def until(what: str, check: object, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout_s}s")


async def test_the_same_key_answers_the_same_job_and_another_key_a_new_one(run: Run) -> None:
    first = await queue_full_rebuild(run, "full-1")
    again = await run("rebuildStatements", key="full-1", full=True)
    assert again.replayed and again.result.data["jobId"] == first
    assert await queue_full_rebuild(run, "full-2") != first


async def test_a_full_rebuild_job_ends_done_with_its_report_and_a_job_finished_event(
    run: Run, funded: str, engine: AsyncEngine, wredis: Redis
) -> None:
    job_id = await queue_full_rebuild(run, "full-done")
    assert (await job(engine, job_id)).state == "queued"

    ran = await execute_job(engine, wredis, job_id, "test-worker")

    done = await job(engine, job_id)
    assert ran["state"] == done.state == "done" and done.attempts == 1
    assert done.result is not None and done.result["full"] is True
    assert done.result["transactions"] == done.progress_total == done.progress_done == 1
    assert done.percent == 100.0 and done.finished_at is not None
    async with engine.connect() as connection:
        events = (
            await connection.execute(
                select(outbox.c.payload).where(outbox.c.event_type == "job.finished")
            )
        ).all()
    assert [(e.payload["jobId"], e.payload["state"]) for e in events] == [(job_id, "done")]


async def test_progress_is_visible_while_the_job_runs_and_a_second_delivery_is_skipped(
    run: Run, engine: AsyncEngine, wredis: Redis
) -> None:
    job_id = await queue_full_rebuild(run, "full-progress")
    release = asyncio.Event()

    async def slow(job_run: JobRun) -> dict[str, object]:
        job_run.progress(3, 10)
        await release.wait()
        job_run.progress(10, 10)
        return {"rows": 10}

    running = asyncio.create_task(
        execute_job(engine, wredis, job_id, "worker-a", runners={STATEMENTS_FULL_REBUILD: slow})
    )

    async def shows_progress() -> bool:
        current = await job(engine, job_id)
        return current.state == "running" and current.progress_done == 3

    await until("progress 3/10 in the row", shows_progress)
    assert (await job(engine, job_id)).percent == 30.0
    second = await execute_job(engine, wredis, job_id, "worker-b")
    assert second["state"] == "skipped", "a job under a live lease runs once"
    release.set()
    assert (await running)["state"] == "done"
    assert (await job(engine, job_id)).result == {"rows": 10}


async def test_a_job_whose_worker_died_is_taken_over_after_its_lease(
    run: Run, engine: AsyncEngine, wredis: Redis
) -> None:
    job_id = await queue_full_rebuild(run, "full-takeover")
    never = asyncio.Event()

    async def hangs(job_run: JobRun) -> dict[str, object]:
        await never.wait()
        return {}

    dying = asyncio.create_task(
        execute_job(
            engine,
            wredis,
            job_id,
            "worker-dies",
            lease_s=0.2,
            runners={STATEMENTS_FULL_REBUILD: hangs},
        )
    )

    async def claimed() -> bool:
        return (await job(engine, job_id)).state == "running"

    await until("the first claim", claimed)
    dying.cancel()  # the worker is gone: no heartbeat renews the lease
    with pytest.raises(asyncio.CancelledError):
        await dying
    await asyncio.sleep(0.3)
    taken = await execute_job(engine, wredis, job_id, "worker-next")
    assert taken["state"] == "done"
    assert (await job(engine, job_id)).attempts == 2


async def test_a_failing_job_ends_failed_with_a_typed_error_or_internal_error(
    run: Run, engine: AsyncEngine, wredis: Redis
) -> None:
    async def unavailable(job_run: JobRun) -> dict[str, object]:
        raise Unavailable("database restarting")

    async def bug(job_run: JobRun) -> dict[str, object]:
        raise KeyError("oops")

    for key, runner, code in (
        ("fail-typed", unavailable, "UNAVAILABLE"),
        ("fail-bug", bug, "INTERNAL_ERROR"),
    ):
        job_id = await queue_full_rebuild(run, key)
        ran = await execute_job(
            engine, wredis, job_id, "worker", runners={STATEMENTS_FULL_REBUILD: runner}
        )
        failed = await job(engine, job_id)
        assert ran["state"] == failed.state == "failed"
        assert failed.error is not None and failed.error["code"] == code
        assert failed.finished_at is not None


@pytest.fixture
async def arq_redis(workers_redis_url: str, wredis: Redis) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(RedisSettings.from_dsn(workers_redis_url))
    yield pool
    await pool.aclose()


async def test_dispatch_queues_each_attempt_once_and_abandons_a_job_that_keeps_dying(
    run: Run, engine: AsyncEngine, arq_redis: ArqRedis
) -> None:
    job_id = await queue_full_rebuild(run, "full-dispatch")
    assert await dispatch_jobs(engine, arq_redis) == {"due": 1, "queued": 1, "abandoned": 0}
    assert await dispatch_jobs(engine, arq_redis) == {"due": 1, "queued": 0, "abandoned": 0}

    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE jobs SET state = 'running', attempts = :attempts, lease_owner = 'gone',"
                " lease_expires_at = now() - interval '1 second' WHERE id = :id"
            ),
            {"id": job_id, "attempts": MAX_ATTEMPTS},
        )
    assert (await dispatch_jobs(engine, arq_redis))["abandoned"] == 1
    abandoned = await job(engine, job_id)
    assert abandoned.state == "failed"
    assert abandoned.error is not None and abandoned.error["code"] == "JOB_ABANDONED"
    assert await execute_job(engine, arq_redis, job_id, "late") == {
        "state": "skipped",
        "jobId": job_id,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.timeout(90)
async def test_a_real_worker_runs_the_job_and_serves_its_metrics_and_the_cli_follows_it(
    run: Run,
    funded: str,
    engine: AsyncEngine,
    database_url: str,
    workers_redis_url: str,
    wredis: Redis,
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": workers_redis_url,
        "WORKER_METRICS_PORT": str(port),
        "STATEMENTS_INTERVAL_S": "30",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    job_id = await queue_full_rebuild(run, "full-real")
    log_path = tmp_path / "worker.log"
    with worker_process(env, log_path):
        follow = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "walletflow",
            "jobs",
            "status",
            job_id,
            "--follow",
            "--timeout",
            "60",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        followed, bar = await asyncio.wait_for(follow.communicate(), 70)
        assert follow.returncode == 0, bar.decode()[-2000:]
        final = json.loads(followed.decode().strip().splitlines()[-1])
        assert (final["id"], final["state"], final["percent"]) == (job_id, "done", 100.0)
        assert "statements.full_rebuild" in bar.decode()

        async def scraped() -> bool:
            try:
                async with httpx.AsyncClient() as client:
                    response = await client.get(f"http://127.0.0.1:{port}/metrics")
            except httpx.HTTPError:
                return False
            return response.status_code == 200 and "walletflow_job_runs_total" in response.text

        await wait_for("the worker's /metrics", scraped, 30.0, log_path)
        async with httpx.AsyncClient() as client:
            body = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    found = {family.name: family.samples for family in text_string_to_metric_families(body)}
    runs = [
        s
        for s in found["walletflow_job_runs"]
        if s.name == "walletflow_job_runs_total" and s.labels["kind"] == STATEMENTS_FULL_REBUILD
    ]
    assert [(s.labels["outcome"], s.value) for s in runs] == [("done", 1.0)]
    for family in (
        "walletflow_job_run_duration_seconds",
        "walletflow_outbox_relayed_events",
        "walletflow_ledger_sealed_transactions",
        "walletflow_db_pool_connections_in_use",
        "walletflow_db_pool_capacity",
        "walletflow_outbox_pending",
        "walletflow_payout_sagas",
        "walletflow_manual_review_queue_size",
        "walletflow_ledger_sealer_lag_seconds",
        "walletflow_jobs",
    ):
        assert found.get(family), family
    done = [
        s
        for s in found["walletflow_jobs"]
        if s.labels == {"kind": STATEMENTS_FULL_REBUILD, "state": "done"}
    ]
    assert [s.value for s in done] == [1.0]
    for line in log_path.read_text().splitlines():
        if line.startswith("{"):
            parsed = json.loads(line)
            assert {"ts", "level", "logger", "message", "request_id", "actor"} <= set(parsed)


async def test_a_postings_export_is_a_job_whose_csv_holds_every_posting_of_the_range(
    run: Run, funded: str, engine: AsyncEngine, wredis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = await run(
        "exportPostings",
        key="export-1",
        from_time="2000-01-01T00:00:00Z",
        to_time="2100-01-01T00:00:00Z",
        account="merchants:m1:",
    )
    assert outcome.result.data["kind"] == "export.postings"
    job_id = outcome.result.data["jobId"]
    async with engine.connect() as connection:
        listed = await list_postings(
            connection, EVERYTHING, LedgerBackend.POSTGRES, account="merchants:m1:", first=200
        )
    expected = list(listed.rows)
    assert expected, "the funded wallet has postings"
    monkeypatch.setattr("walletflow.workers.jobs.MAX_PAGE_SIZE", 1)  # one page per posting

    ran = await execute_job(engine, wredis, job_id, "test-worker")

    done = await job(engine, job_id)
    assert ran["state"] == done.state == "done", done.error
    assert done.progress_done == done.progress_total == len(expected)
    async with engine.connect() as connection:
        body = "".join([part async for part in job_output(connection, EVERYTHING, job_id)])
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0] == list(EXPORT_COLUMNS)
    assert [(int(line[0]), int(line[1]), int(line[6])) for line in lines[1:]] == [
        (p.tx_id, p.ordinal, p.amount_minor) for p in expected
    ]
    assert done.result == {
        "rows": len(expected),
        "bytes": len(body.encode()),
        "parts": 1,
        "sha256": hashlib.sha256(body.encode()).hexdigest(),
    }


async def test_an_export_outside_any_posting_is_a_header_and_a_bad_range_is_refused(
    run: Run, funded: str, engine: AsyncEngine, wredis: Redis
) -> None:
    empty = await run(
        "exportPostings", from_time="1990-01-01T00:00:00Z", to_time="1990-01-02T00:00:00Z"
    )
    job_id = empty.result.data["jobId"]
    assert (await execute_job(engine, wredis, job_id, "test-worker"))["state"] == "done"
    async with engine.connect() as connection:
        body = "".join([part async for part in job_output(connection, EVERYTHING, job_id)])
    assert body == ",".join(EXPORT_COLUMNS) + "\n"
    with pytest.raises(ValidationError) as refused:
        await run(
            "exportPostings", from_time="2026-02-01T00:00:00Z", to_time="2026-01-01T00:00:00Z"
        )
    assert refused.value.field_errors == {"to_time": "after from_time"}
    with pytest.raises(ValidationError) as refused:
        await run(
            "exportPostings",
            from_time="2026-01-01T00:00:00Z",
            to_time="2026-02-01T00:00:00Z",
            account="merchants:%",
        )
    assert set(refused.value.field_errors) == {"account"}


async def test_the_output_of_a_job_that_is_not_done_is_refused(
    run: Run, engine: AsyncEngine
) -> None:
    outcome = await run(
        "exportPostings", from_time="2026-01-01T00:00:00Z", to_time="2026-02-01T00:00:00Z"
    )
    async with engine.connect() as connection:
        with pytest.raises(Conflict):
            [
                part
                async for part in job_output(connection, EVERYTHING, outcome.result.data["jobId"])
            ]


async def test_a_coa_rebuild_in_the_background_is_a_job_that_reloads_the_seed_files(
    run: Run, engine: AsyncEngine, wredis: Redis
) -> None:
    inline = await run("rebuildCoa")
    outcome = await run("rebuildCoa", background=True)
    assert outcome.result.data["kind"] == "coa.rebuild"
    job_id = outcome.result.data["jobId"]
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM gl_mappings"))
        await connection.execute(text("DELETE FROM coa_accounts"))

    assert (await execute_job(engine, wredis, job_id, "test-worker"))["state"] == "done"

    done = await job(engine, job_id)
    assert done.result == inline.result.data and done.percent == 100.0
    async with engine.connect() as connection:
        loaded = (await connection.execute(text("SELECT count(*) FROM coa_accounts"))).scalar()
    assert loaded == inline.result.data["coaAccounts"] > 0

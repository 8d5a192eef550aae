"""Long jobs through the API: `rebuildStatements(full: true)` answers a job id at once, `job(id)`
and `jobProgress(id)` follow it to the end, malformed or foreign ids are typed errors, and with
tracing on one trace spans the request, the command, the ledger and the worker's job."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.testclient import TestClient

from tests.integration.api.conftest import AUTH_TOKEN, Api
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.db.engine import create_engine
from walletflow.observability.tracing import configure_tracing, shutdown_tracing
from walletflow.workers.jobs import execute_job

JOB_FIELDS = "id kind state progressDone progressTotal percent result error attempts requestedBy"
JOB_QUERY = f"query($id: String!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
ADMIN = {"authorization": f"Bearer {AUTH_TOKEN}"}


async def queue(api: Api, key: str) -> str:
    result = await api.mutate("rebuildStatements", {"full": True}, key=key)
    assert result["__typename"] == "CommandSuccess", result
    assert result["data"]["state"] == "queued"
    job_id: str = result["data"]["jobId"]
    return job_id


async def test_a_full_rebuild_answers_a_job_id_at_once_and_the_job_query_follows_it(
    keyed_api: Api, engine: AsyncEngine, redis: Redis
) -> None:
    api = keyed_api
    job_id = await queue(api, "api-full-1")
    replay = await api.mutate("rebuildStatements", {"full": True}, key="api-full-1")
    assert replay["replayed"] is True and replay["data"]["jobId"] == job_id
    queued = (await api.data(JOB_QUERY, {"id": job_id}))["job"]
    assert (queued["state"], queued["kind"], queued["attempts"]) == (
        "queued",
        "statements.full_rebuild",
        0,
    )

    await execute_job(engine, redis, job_id, "test-worker")

    done = (await api.data(JOB_QUERY, {"id": job_id}, who="analyst"))["job"]
    assert (done["state"], done["percent"], done["error"]) == ("done", 100.0, None)
    assert done["result"]["full"] is True
    listed = await api.data("{ jobs(first: 5) { id state } }")
    assert listed["jobs"][0] == {"id": job_id, "state": "done"}


@pytest.mark.parametrize(
    ("job_id", "code"),
    [
        ("garbage", "VALIDATION_ERROR"),
        ("job_" + "0" * 32, "NOT_FOUND"),
        ("WzEsMl0=", "VALIDATION_ERROR"),
        ("job_" + "0" * 32 + "'; DROP TABLE jobs; --", "VALIDATION_ERROR"),
    ],
)
async def test_a_malformed_or_unknown_job_id_is_a_typed_error(
    api: Api, job_id: str, code: str
) -> None:
    response = await api.graphql(JOB_QUERY, {"id": job_id})
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code


async def test_merchants_see_no_jobs_and_analysts_cannot_queue_one(keyed_api: Api) -> None:
    api = keyed_api
    job_id = await queue(api, "api-full-2")
    response = await api.graphql(JOB_QUERY, {"id": job_id}, who="m1")
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await api.graphql(
        'mutation { rebuildStatements(idempotencyKey: "a-1", input: {full: true}) '
        "{ __typename ... on Error { code } } }",
        who="analyst",
    )
    assert refused.json()["data"]["rebuildStatements"]["code"] == "FORBIDDEN"


@pytest.fixture
def client(database_url: str, redis_url: str) -> Iterator[TestClient]:
    settings = load_settings({"AUTH_TOKEN": AUTH_TOKEN, "SESSION_SECRET": "s" * 40})
    with TestClient(create_app(settings, database_url, redis_url), base_url="https://t") as tc:
        yield tc


def run_job_soon(database_url: str, redis_url: str, job_id: str) -> threading.Thread:
    """Play the worker in another thread (its own event loop), after the subscriber is on."""

    def work() -> None:
        import asyncio

        async def go() -> None:
            await asyncio.sleep(0.5)
            engine = create_engine(database_url, pool_size=2)
            redis = Redis.from_url(redis_url)
            try:
                await execute_job(engine, redis, job_id, "thread-worker")
            finally:
                await redis.aclose()
                await engine.dispose()

        asyncio.run(go())

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


@pytest.mark.timeout(60)
def test_job_progress_streams_the_job_until_it_is_done(
    client: TestClient, database_url: str, redis_url: str
) -> None:
    response = client.post(
        "/graphql",
        json={
            "query": 'mutation { rebuildStatements(idempotencyKey: "sub-1", input: {full: true})'
            " { ... on CommandSuccess { data } } }"
        },
        headers=ADMIN,
    )
    job_id = response.json()["data"]["rebuildStatements"]["data"]["jobId"]
    states: list[str] = []
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=ADMIN
    ) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        query = f'subscription {{ jobProgress(id: "{job_id}") {{ state percent }} }}'
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        worker = run_job_soon(database_url, redis_url, job_id)
        deadline = time.monotonic() + 30
        message: dict[str, Any] = {}
        while time.monotonic() < deadline:
            message = ws.receive_json()
            if message["type"] != "next":
                break
            states.append(message["payload"]["data"]["jobProgress"]["state"])
        assert message["type"] == "complete", message
        worker.join(timeout=10)
    assert states[0] == "queued" and states[-1] == "done"


async def test_one_trace_spans_request_command_ledger_and_the_workers_job(
    database_url: str, redis_url: str, redis: Redis, engine: AsyncEngine
) -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    assert configure_tracing(None, "walletflow-test", exporter=exporter)
    try:
        app = create_app(
            load_settings({"AUTH_TOKEN": AUTH_TOKEN, "SESSION_SECRET": "s" * 40}),
            database_url,
            redis_url,
        )
        import httpx

        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:

                async def mutate(query: str) -> dict[str, Any]:
                    answer = await client.post("/graphql", json={"query": query}, headers=ADMIN)
                    data: dict[str, Any] = answer.json()["data"]
                    return data

                await mutate(
                    'mutation { createWallet(idempotencyKey: "t-w", input: {merchantId: "m1",'
                    ' currency: "NGN"}) { __typename } }'
                )
                await mutate(
                    'mutation { postOpeningBalance(idempotencyKey: "t-o", input: {merchantId:'
                    ' "m1", currency: "NGN", amount: "10.00"}) { __typename } }'
                )
                queued = await mutate(
                    'mutation { rebuildStatements(idempotencyKey: "t-r", input: {full: true})'
                    " { ... on CommandSuccess { data } } }"
                )
        job_id = queued["rebuildStatements"]["data"]["jobId"]
        await execute_job(engine, redis, job_id, "traced-worker")
    finally:
        spans = list(exporter.get_finished_spans())
        shutdown_tracing()

    by_name = {span.name: span for span in spans}
    opening = by_name["command postOpeningBalance"]
    ledger = by_name["ledger.post"]
    assert ledger.context.trace_id == opening.context.trace_id
    assert ledger.parent is not None and ledger.parent.span_id == opening.context.span_id
    server = opening.parent
    assert server is not None
    assert any(s.context.span_id == server.span_id and s.name.startswith("POST") for s in spans)
    rebuild = by_name["command rebuildStatements"]
    job = by_name["job statements.full_rebuild"]
    assert job.context.trace_id == rebuild.context.trace_id, "the worker continues the trace"
    assert job.parent is not None and job.parent.span_id == rebuild.context.span_id

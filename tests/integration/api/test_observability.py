"""The API is observable and hardened at its edge: `/metrics` parses as Prometheus text with
every named family, logs are JSON lines naming the request and the actor, the request id is
returned, security headers are on every response and CORS is refused unless configured."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.integration.api.conftest import AUTH_TOKEN, Api
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.observability.logging import ContextFilter, JsonFormatter
from walletflow.workers.metrics import GatesStatus, store_gates_status

METRICS_TOKEN = "metrics-token-0123456789"
PROCESS_FAMILIES = {
    "walletflow_http_requests",
    "walletflow_http_request_duration_seconds",
    "walletflow_http_requests_in_flight",
    "walletflow_graphql_operations",
    "walletflow_graphql_operation_duration_seconds",
    "walletflow_commands",
    "walletflow_command_duration_seconds",
    "walletflow_db_pool_connections_in_use",
    "walletflow_db_pool_connections_open",
    "walletflow_db_pool_capacity",
}
HEALTH_FAMILIES = {
    "walletflow_health_snapshot_ok",
    "walletflow_outbox_pending",
    "walletflow_outbox_oldest_age_seconds",
    "walletflow_webhooks_dead_lettered",
    "walletflow_payout_sagas",
    "walletflow_manual_review_queue_size",
    "walletflow_manual_review_oldest_age_seconds",
    "walletflow_ledger_unsealed_transactions",
    "walletflow_ledger_sealer_lag_seconds",
    "walletflow_jobs",
    "walletflow_gate_ok",
    "walletflow_gates_checked_age_seconds",
}
SECURITY_HEADERS = (
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
)


def families(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def sample_value(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture
def api_env() -> dict[str, str]:
    return {"AUTH_TOKEN": AUTH_TOKEN, "SESSION_SECRET": "s" * 40, "METRICS_TOKEN": METRICS_TOKEN}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Root log records at INFO+, formatted as walletflow's JSON lines, captured here."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def scrape(api: Api) -> dict[str, list[Sample]]:
    response = await api.client.get(
        "/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return families(response.text)


async def test_metrics_parse_as_prometheus_text_with_every_family_after_commands(
    keyed_api: Api,
) -> None:
    api = keyed_api
    await store_gates_status(api.redis, GatesStatus(0.0, {"books_foot": True, "holds": False}))
    created = await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    assert created["__typename"] == "CommandSuccess"
    replayed = await api.mutate(
        "createWallet", {"merchantId": "m1", "currency": "NGN"}, key="obs-replay"
    )
    assert replayed["__typename"] == "CommandSuccess"
    again = await api.mutate(
        "createWallet", {"merchantId": "m1", "currency": "NGN"}, key="obs-replay"
    )
    assert again["replayed"] is True
    refused = await api.graphql(
        'mutation { createWallet(idempotencyKey: "obs-a", '
        'input: {merchantId: "m2", currency: "NGN"}) { __typename ... on Error { code } } }',
        who="m1",
    )
    assert refused.json()["data"]["createWallet"]["code"] == "FORBIDDEN"
    await api.graphql("{ definitelyNotAField }")

    found = await scrape(api)

    assert set(found) >= PROCESS_FAMILIES | HEALTH_FAMILIES, sorted(
        (PROCESS_FAMILIES | HEALTH_FAMILIES) - set(found)
    )
    commands = found["walletflow_commands"]
    ok = sample_value(commands, "walletflow_commands_total", command="createWallet", outcome="ok")
    assert ok >= 2
    assert sample_value(commands, "walletflow_commands_total", outcome="replayed") >= 1
    assert sample_value(commands, "walletflow_commands_total", outcome="FORBIDDEN") >= 1
    operations = found["walletflow_graphql_operations"]
    assert sample_value(
        operations,
        "walletflow_graphql_operations_total",
        operation_type="mutation",
        operation="createWallet",
        outcome="ok",
    )
    assert sample_value(
        operations,
        "walletflow_graphql_operations_total",
        operation="invalid",
        outcome="GRAPHQL_VALIDATION_FAILED",
    )
    requests = found["walletflow_http_requests"]
    assert sample_value(
        requests, "walletflow_http_requests_total", route="/graphql", method="POST", status="200"
    )
    latency = found["walletflow_command_duration_seconds"]
    assert sample_value(
        latency, "walletflow_command_duration_seconds_count", command="createWallet"
    )
    assert sample_value(found["walletflow_db_pool_capacity"], "walletflow_db_pool_capacity") > 0
    assert sample_value(found["walletflow_health_snapshot_ok"], "walletflow_health_snapshot_ok")
    assert sample_value(found["walletflow_gate_ok"], "walletflow_gate_ok", gate="books_foot") == 1
    assert sample_value(found["walletflow_gate_ok"], "walletflow_gate_ok", gate="holds") == 0
    states = {s.labels["state"] for s in found["walletflow_payout_sagas"]}
    assert {"pending_submit", "done", "manual_review"} <= states


async def test_metrics_need_the_metrics_token_when_one_is_set(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 401
    wrong = await api.client.get("/metrics", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "UNAUTHENTICATED"
    assert (await scrape(api))["walletflow_outbox_pending"]


async def test_a_request_id_is_returned_and_on_every_log_line_with_the_actor(
    keyed_api: Api, json_log: io.StringIO
) -> None:
    api = keyed_api
    response = await api.client.post(
        "/graphql",
        json={"query": "{ gates { name } }"},
        headers={**api.headers_for("m1"), "x-request-id": "req-obs-1"},
    )
    assert response.headers["x-request-id"] == "req-obs-1"
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    merchant = await api.state.authenticator.principal(api.headers_for("m1"), {})

    lines = [line for line in log_lines(json_log) if line.get("request_id") == "req-obs-1"]

    assert {line["logger"] for line in lines} >= {"walletflow.graphql", "walletflow.access"}
    assert all(line["actor"] == merchant.subject for line in lines), lines
    [refusal] = [line for line in lines if line["logger"] == "walletflow.graphql"]
    assert refusal["level"] == "INFO" and refusal["code"] == "FORBIDDEN"
    assert "error" not in refusal, "a typed refusal carries no stack trace"
    [access] = [line for line in lines if line["logger"] == "walletflow.access"]
    assert (access["route"], access["status"]) == ("/graphql", 200)
    assert access["duration_ms"] >= 0


async def test_a_malformed_request_id_is_replaced(api: Api) -> None:
    response = await api.client.get("/livez", headers={"x-request-id": "bad id with spaces"})
    given = response.headers["x-request-id"]
    assert given != "bad id with spaces" and len(given) == 32


async def test_every_response_carries_the_security_headers(api: Api) -> None:
    responses = [
        await api.client.get("/livez"),
        await api.client.get("/healthz"),
        await api.client.get("/no-such-route"),
        await api.graphql("{ __typename }"),
        await api.client.post("/graphql", content=b"x" * (300 * 1024)),
    ]
    assert [r.status_code for r in responses] == [200, 200, 404, 200, 413]
    for response in responses:
        for header in SECURITY_HEADERS:
            assert header in response.headers, (response.url, header)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in response.headers


async def test_graphiql_gets_a_content_security_policy_it_can_run_under(api: Api) -> None:
    page = await api.client.get(
        "/graphql", headers={"accept": "text/html", **api.headers_for("admin")}
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline' https://unpkg.com" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.fixture
async def production_client(
    database_url: str, redis_url: str, api_env: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    env = {
        **api_env,
        "ENV": "production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CORS_ALLOWED_ORIGINS": "https://ops.example",
    }
    app = create_app(load_settings(env), database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api") as client:
            yield client


async def test_production_adds_strict_transport_security(
    production_client: httpx.AsyncClient,
) -> None:
    response = await production_client.get("/livez")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_cors_is_refused_when_no_origin_is_configured(api: Api) -> None:
    answer = await api.client.options("/graphql", headers=preflight("https://ops.example"))
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers
    simple = await api.client.get("/livez", headers={"origin": "https://ops.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
    for header in SECURITY_HEADERS:
        assert header in answer.headers


async def test_cors_allows_exactly_the_configured_origins(
    production_client: httpx.AsyncClient,
) -> None:
    allowed = await production_client.options("/graphql", headers=preflight("https://ops.example"))
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = await production_client.options("/graphql", headers=preflight("https://evil.example"))
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    simple = await production_client.get("/livez", headers={"origin": "https://ops.example"})
    assert simple.headers["access-control-allow-origin"] == "https://ops.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

"""Depth, cost, page-size and body-size limits, and switchable introspection: each refusal is a
typed client error, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.api.conftest import Api


@pytest.fixture
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {
        **api_env,
        "GRAPHQL_MAX_DEPTH": "4",
        "GRAPHQL_MAX_COST": "300",
        "MAX_BODY_BYTES": "2048",
        "GRAPHQL_INTROSPECTION": "false",
    }


async def test_too_deep_a_query_is_refused(api: Api) -> None:
    ok = await api.graphql("{ wallets { edges { node { merchantId } } } }")
    assert ok.status_code == 200 and not ok.json().get("errors")
    deep = await api.graphql(
        "{ wallets { edges { node { balances { available { amountMinor } } } } } }"
    )
    assert deep.status_code == 200
    assert "exceeds maximum operation depth" in deep.json()["errors"][0]["message"]


async def test_too_costly_a_query_is_refused_before_it_runs(api: Api) -> None:
    costly = await api.graphql("{ wallets(first: 200) { nodes { merchantId currency } } }")
    error = costly.json()["errors"][0]
    assert costly.status_code == 200
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    cheap = await api.graphql("{ wallets(first: 10) { nodes { merchantId currency } } }")
    assert not cheap.json().get("errors")


async def test_page_size_is_bounded(api: Api) -> None:
    body = (await api.graphql("{ holds(first: 0) { nodes { payoutId } } }")).json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"


async def test_a_body_over_the_limit_is_413_typed(api: Api) -> None:
    padding = "x" * 4096
    response = await api.client.post(
        "/graphql",
        content=('{"query": "{ me { role } }", "pad": "' + padding + '"}').encode(),
        headers={"content-type": "application/json", **api.headers_for("admin")},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b" " * 1024

    streamed = await api.client.post(
        "/auth/token", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_introspection_can_be_switched_off(api: Api) -> None:
    body = (await api.graphql("{ __schema { types { name } } }")).json()
    assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
    assert (await api.data("{ __typename }"))["__typename"] == "Query"

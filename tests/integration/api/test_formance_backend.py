"""The API with LEDGER_BACKEND=formance, against the fake Formance v2 server over real HTTP:
commands and the reads that go through the ledger port answer; postings and reporting, which
read the built-in ledger's own tables, refuse with UNSUPPORTED_BY_LEDGER_BACKEND (a GraphQL
error with that `extensions.code`), queries and the gates subscription alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.integration.api.conftest import AUTH_TOKEN, Api
from tests.support.fake_formance import create_app as create_fake_formance
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.providers.serving import serve_in_thread

UNSUPPORTED = "UNSUPPORTED_BY_LEDGER_BACKEND"
pytestmark = pytest.mark.timeout(60)

REFUSED = {
    "postings": "{ postings { nodes { txId } } }",
    "trialBalance": "{ trialBalance { foots } }",
    "alm": "{ alm { summaries { asset } } }",
    "gates": "{ gates(refreshStatements: false) { name ok } }",
    "statements": '{ statements(merchantId: "m1", currency: "NGN") { nodes { seq } } }',
}


@pytest.fixture
def formance_url() -> Iterator[str]:
    with serve_in_thread(create_fake_formance()) as url:
        yield url


@pytest.fixture
def api_env(api_env: dict[str, str], formance_url: str) -> dict[str, str]:
    return {**api_env, "LEDGER_BACKEND": "formance", "FORMANCE_URL": formance_url}


async def test_commands_and_ledger_port_reads_answer_under_formance(api: Api) -> None:
    await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    payin = {
        "merchantId": "m1",
        "currency": "NGN",
        "amount": "100.00",
        "fee": "1.00",
        "provider": "sandbox",
    }
    result = await api.mutate("postPayin", payin)
    assert result["__typename"] == "CommandSuccess", result
    data = await api.data(
        """{ transactions { nodes { postings { destination amountMinor } } }
             balances(prefix: "fees:") { account balanceMinor }
             wallets { nodes { balances { available { amountMinor } } } } }"""
    )
    destinations = {
        posting["destination"] for tx in data["transactions"]["nodes"] for posting in tx["postings"]
    }
    assert "merchants:m1:NGN:available" in destinations
    assert data["balances"] == [{"account": "fees:NGN:revenue", "balanceMinor": "100"}]
    wallet = data["wallets"]["nodes"][0]
    assert wallet["balances"]["available"]["amountMinor"] == "9900"


@pytest.mark.parametrize("field", list(REFUSED))
async def test_builtin_ledger_reads_are_refused_with_a_stable_code(api: Api, field: str) -> None:
    await api.create_key("analyst", "analyst")
    for who in ("admin", "analyst"):
        response = await api.graphql(REFUSED[field], who=who)
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None, body
        error = body["errors"][0]
        assert error["path"] == [field]
        assert error["extensions"]["code"] == UNSUPPORTED, body
        assert error["extensions"]["details"]["ledgerBackend"] == "formance"


async def test_the_chart_of_accounts_needs_no_ledger_tables(api: Api) -> None:
    data = await api.data("{ coa { code } glMappings { template } coaDrift { check } }")
    assert isinstance(data["coaDrift"], list)


def test_the_gates_subscription_is_refused_with_a_stable_code(
    database_url: str, redis_url: str, formance_url: str
) -> None:
    settings = load_settings(
        {
            "AUTH_TOKEN": AUTH_TOKEN,
            "SESSION_SECRET": "s" * 40,
            "LEDGER_BACKEND": "formance",
            "FORMANCE_URL": formance_url,
        }
    )
    app = create_app(settings, database_url, redis_url)
    admin = {"authorization": f"Bearer {AUTH_TOKEN}"}
    with (
        TestClient(app, base_url="https://testserver") as client,
        client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=admin
        ) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        query = "subscription { gates { name ok } }"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        message: dict[str, Any] = ws.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == UNSUPPORTED, message

"""Subscriptions over graphql-transport-ws deliver events after mutations.

The outbox relay publishes every outbox event to the `walletflow:events` stream; here the test
plays the relay (reads the outbox rows the mutation wrote and publishes them), so the test does
not depend on a worker running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select, update
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.integration.api.conftest import AUTH_TOKEN, CREATE_KEY
from walletflow.api.app import create_app
from walletflow.api.auth.sessions import SESSION_COOKIE, Session
from walletflow.api.events import StreamEvent, publish
from walletflow.config import load_settings
from walletflow.db.engine import create_engine
from walletflow.db.schema_service import outbox

ADMIN = {"authorization": f"Bearer {AUTH_TOKEN}"}
SUBSCRIBE_SETTLE_S = 0.5
pytestmark = pytest.mark.timeout(60)


class Relay:
    """Publish the outbox's unpublished events to the stream, like the outbox relay does."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url

    def publish_pending(self) -> int:
        return asyncio.run(self._publish_pending())

    async def _publish_pending(self) -> int:
        engine = create_engine(self.database_url, pool_size=1)
        redis = Redis.from_url(self.redis_url)
        try:
            async with engine.begin() as connection:
                rows = (
                    await connection.execute(
                        select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id)
                    )
                ).all()
                for row in rows:
                    await publish(
                        redis,
                        StreamEvent("", row.event_id, row.event_type, row.merchant_id, row.payload),
                    )
                    await connection.execute(
                        update(outbox)
                        .where(outbox.c.id == row.id)
                        .values(published_at=row.created_at)
                    )
        finally:
            await redis.aclose()
            await engine.dispose()
        return len(rows)


@pytest.fixture
def client(database_url: str, redis_url: str) -> Iterator[TestClient]:
    settings = load_settings({"AUTH_TOKEN": AUTH_TOKEN, "SESSION_SECRET": "s" * 40})
    app = create_app(settings, database_url, redis_url)
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def relay(database_url: str, redis_url: str) -> Iterator[Relay]:
    yield Relay(database_url, redis_url)


def gql(
    client: TestClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or ADMIN
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def run(
    client: TestClient,
    name: str,
    raw: dict[str, Any],
    key: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    type_name = name[:1].upper() + name[1:] + "Input"
    query = (
        f"mutation($k: String!, $i: {type_name}!) {{ {name}(idempotencyKey: $k, input: $i) "
        "{ __typename ... on CommandSuccess { transactionId } ... on Error { code message } } }"
    )
    result: dict[str, Any] = gql(client, query, {"k": key, "i": raw}, headers)[name]
    assert result["__typename"] == "CommandSuccess", result
    return result


def subscribe(ws: Any, query: str) -> None:
    ws.send_json({"type": "connection_init", "payload": {}})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})


def next_data(ws: Any) -> dict[str, Any]:
    message = ws.receive_json()
    assert message["type"] == "next", message
    assert not message["payload"].get("errors"), message
    data: dict[str, Any] = message["payload"]["data"]
    return data


def payin(merchant: str) -> dict[str, Any]:
    return {"merchantId": merchant, "currency": "NGN", "amount": "10.00", "provider": "sandbox"}


def test_transactions_subscription_delivers_a_new_transaction_after_a_mutation(
    client: TestClient, relay: Relay
) -> None:
    run(client, "createWallet", {"merchantId": "m1", "currency": "NGN"}, "s-w1")
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=ADMIN
    ) as ws:
        subscribe(ws, "subscription { transactions { id reference postings { destination } } }")
        time.sleep(SUBSCRIBE_SETTLE_S)
        posted = run(client, "postPayin", payin("m1"), "s-p1")
        relay.publish_pending()
        delivered = next_data(ws)["transactions"]
        assert delivered["id"] == posted["transactionId"]
        assert delivered["reference"]


def test_merchants_receive_only_their_own_transactions(client: TestClient, relay: Relay) -> None:
    keys = {}
    for merchant in ("m1", "m2"):
        created = gql(client, CREATE_KEY, {"role": "merchant", "merchantId": merchant})
        keys[merchant] = {"authorization": f"Bearer {created['createApiKey']['token']}"}
        run(client, "createWallet", {"merchantId": merchant, "currency": "NGN"}, f"w-{merchant}")
    relay.publish_pending()
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=keys["m2"]
    ) as ws:
        subscribe(ws, "subscription { transactions { id postings { destination } } }")
        time.sleep(SUBSCRIBE_SETTLE_S)
        # Pay-ins are provider facts: staff enter these (merchants never credit themselves).
        run(client, "postPayin", payin("m1"), "p-m1")
        relay.publish_pending()
        mine = run(client, "postPayin", payin("m2"), "p-m2")
        relay.publish_pending()
        delivered = next_data(ws)["transactions"]
        # m1's pay-in came first on the stream, but m2 never sees it.
        assert delivered["id"] == mine["transactionId"]
        assert any(p["destination"].startswith("merchants:m2:") for p in delivered["postings"])


def test_manual_review_queue_subscription_follows_changes(client: TestClient, relay: Relay) -> None:
    run(client, "createWallet", {"merchantId": "m1", "currency": "NGN"}, "q-w")
    run(
        client, "postOpeningBalance", {"merchantId": "m1", "currency": "NGN", "amount": "50"}, "q-o"
    )
    run(
        client,
        "reservePayout",
        {
            **payin("m1"),
            "destination": {"bank": "058", "account": "0123456789"},
            "payoutId": "po-q",
        },
        "q-r",
    )
    relay.publish_pending()
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=ADMIN
    ) as ws:
        subscribe(ws, "subscription { manualReviewQueue { payoutId state } }")
        assert next_data(ws)["manualReviewQueue"] == []
        run(client, "markPayoutManualReview", {"payoutId": "po-q", "reason": "rail timeout"}, "q-m")
        relay.publish_pending()
        assert next_data(ws)["manualReviewQueue"] == [
            {"payoutId": "po-q", "state": "manual_review"}
        ]


def test_outbox_age_subscription_reports_pending_events(client: TestClient) -> None:
    run(client, "createWallet", {"merchantId": "m1", "currency": "NGN"}, "o-w")
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=ADMIN
    ) as ws:
        subscribe(ws, "subscription { outboxAge(intervalS: 1) { pendingCount oldestPendingAgeS } }")
        first = next_data(ws)["outboxAge"]
        assert first["pendingCount"] >= 1
        assert first["oldestPendingAgeS"] is not None


def test_an_unauthenticated_websocket_is_closed(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 4401


def test_gates_subscription_sends_the_gates_then_each_change(
    client: TestClient, relay: Relay
) -> None:
    with client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=ADMIN
    ) as ws:
        subscribe(ws, "subscription { gates(debounceMs: 100) { name ok detail } }")
        first = {gate["name"]: gate["ok"] for gate in next_data(ws)["gates"]}
        assert set(first) == {"books_foot", "holds", "statements", "coa_templates", "suspense"}
        assert first["coa_templates"] is False, first
        gql(client, 'mutation { rebuildCoa(idempotencyKey: "g-coa") { __typename } }')
        gql(client, 'mutation { rebuildTemplates(idempotencyKey: "g-t") { __typename } }')
        relay.publish_pending()
        changed = {gate["name"]: gate["ok"] for gate in next_data(ws)["gates"]}
        assert changed["coa_templates"] is True, changed


def test_a_subscription_ends_when_its_email_leaves_the_allowlist(
    database_url: str, redis_url: str
) -> None:
    settings = load_settings(
        {
            "AUTH_TOKEN": AUTH_TOKEN,
            "SESSION_SECRET": "s" * 40,
            "OPS_ALLOWED_EMAILS": "op@example.com",
            "OPS_ADMIN_EMAILS": "boss@example.com",
        }
    )
    app = create_app(settings, database_url, redis_url)
    with TestClient(app, base_url="https://testserver") as client:
        cookie = app.state.api.authenticator.signer.dumps(Session("google", "op@example.com"))
        operator = {"cookie": f"{SESSION_COOKIE}={cookie}"}
        with client.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers=operator
        ) as ws:
            subscribe(ws, "subscription { outboxAge(intervalS: 1) { pendingCount } }")
            assert "outboxAge" in next_data(ws)
            run(
                client,
                "saveAccessLists",
                {"allowedEmails": [], "adminEmails": ["boss@example.com"]},
                "drop-op",
            )
            errors: list[dict[str, Any]] = []
            for _ in range(20):
                message = ws.receive_json()
                payload = message.get("payload")
                if message["type"] == "error":
                    errors = payload
                elif message["type"] == "next" and payload.get("errors"):
                    errors = payload["errors"]
                if errors or message["type"] == "complete":
                    break
            assert errors, message
            assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED", errors

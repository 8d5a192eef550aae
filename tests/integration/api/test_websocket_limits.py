"""Websockets are bounded per principal: GRAPHQL_WS_MAX_CONNECTIONS open sockets (one more is
closed at once with 4429 and a typed reason) and GRAPHQL_WS_MAX_SUBSCRIPTIONS subscriptions
over all of them (one more is refused TOO_MANY_SUBSCRIPTIONS). A slot comes back when its
socket or subscription ends, and so does the Redis connection a subscription blocks on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.integration.api.conftest import AUTH_TOKEN, CREATE_KEY
from walletflow.api.app import create_app
from walletflow.config import load_settings

ADMIN = {"authorization": f"Bearer {AUTH_TOKEN}"}
PROTOCOL = ["graphql-transport-ws"]
SUBSCRIPTION = "subscription { outboxAge(intervalS: 1) { pendingCount } }"
POLL_S = 0.05
MAX_POLLS = 200
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app(database_url: str, redis_url: str) -> Starlette:
    settings = load_settings(
        {
            "AUTH_TOKEN": AUTH_TOKEN,
            "SESSION_SECRET": "s" * 40,
            "GRAPHQL_WS_MAX_CONNECTIONS": "2",
            "GRAPHQL_WS_MAX_SUBSCRIPTIONS": "2",
        }
    )
    return create_app(settings, database_url, redis_url)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def analyst_headers(client: TestClient) -> dict[str, str]:
    response = client.post(
        "/graphql", json={"query": CREATE_KEY, "variables": {"role": "analyst"}}, headers=ADMIN
    )
    token = response.json()["data"]["createApiKey"]["token"]
    return {"authorization": f"Bearer {token}"}


def init(ws: Any) -> None:
    ws.send_json({"type": "connection_init", "payload": {}})
    assert ws.receive_json()["type"] == "connection_ack"


def subscribe(ws: Any, operation_id: str) -> dict[str, Any]:
    """Start a subscription and return its first message (`next`, or `error` if refused)."""
    ws.send_json({"id": operation_id, "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
    while True:  # other live subscriptions on this socket keep sending
        message: dict[str, Any] = ws.receive_json()
        if message.get("id") == operation_id:
            return message


def refused_code(message: dict[str, Any]) -> str:
    assert message["type"] == "error", message
    code: str = message["payload"][0]["extensions"]["code"]
    return code


def eventually(condition: Callable[[], bool]) -> bool:
    for _ in range(MAX_POLLS):
        if condition():
            return True
        time.sleep(POLL_S)
    return condition()


def test_one_websocket_too_many_for_a_principal_is_closed_typed_and_others_still_connect(
    client: TestClient,
) -> None:
    analyst = analyst_headers(client)
    with (
        client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as first,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as second,
    ):
        init(first)
        init(second)
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as third,
        ):
            third.receive_json()
        assert closed.value.code == 4429
        assert closed.value.reason.startswith("TOO_MANY_CONNECTIONS: ")
        with client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=analyst) as ws:
            init(ws)  # another principal is not affected
    # Both sockets closed: their slots are back.
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as again:
        init(again)


def redis_in_use(app: Starlette) -> int:
    return len(app.state.resources.redis.connection_pool._in_use_connections)


def test_subscriptions_are_bounded_per_principal_and_give_back_slot_and_redis_connection(
    app: Starlette, client: TestClient
) -> None:
    with (
        client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as one,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL, headers=ADMIN) as two,
    ):
        init(one)
        init(two)
        assert subscribe(one, "a")["type"] == "next"
        assert subscribe(two, "b")["type"] == "next"
        assert refused_code(subscribe(one, "c")) == "TOO_MANY_SUBSCRIPTIONS"
        assert refused_code(subscribe(two, "d")) == "TOO_MANY_SUBSCRIPTIONS"
        assert eventually(lambda: redis_in_use(app) >= 2), "each live subscription reads Redis"
        one.send_json({"id": "a", "type": "complete"})
        assert eventually(lambda: subscribe_ok(two, f"e{time.monotonic_ns()}"))
    assert eventually(lambda: redis_in_use(app) == 0), redis_in_use(app)


def subscribe_ok(ws: Any, operation_id: str) -> bool:
    """Try to subscribe; True when accepted (the slot was free again)."""
    return bool(subscribe(ws, operation_id)["type"] == "next")

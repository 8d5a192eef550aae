"""GraphQL subscriptions over graphql-transport-ws (the `websockets` client).

`follow(credential, subscriptions)` opens one websocket to the API's `/graphql`, starts every
subscription on it and yields `(name, data)` as results arrive. The Reflex background task that
consumes it pushes each result into the state, so pages update without a reload.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets

from walletflow_dashboard.api import ApiError, Credential, ws_url

PROTOCOL = "graphql-transport-ws"
ACK_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
CONNECTED = "connected"  # yielded once the API acknowledged the connection


async def follow(
    credential: Credential, subscriptions: dict[str, str]
) -> AsyncIterator[tuple[str, Any]]:
    """Yield `(subscription name, data)`; `("error", message)` when one subscription fails."""
    async with websockets.connect(
        ws_url(),
        subprotocols=[websockets.Subprotocol(PROTOCOL)],
        additional_headers=credential.headers(),
        max_size=MAX_MESSAGE_BYTES,
        open_timeout=ACK_TIMEOUT_S,
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), ACK_TIMEOUT_S))
        if ack.get("type") != "connection_ack":
            raise ApiError(f"subscription refused: {ack}", "UNAUTHENTICATED")
        yield CONNECTED, None
        for name, query in subscriptions.items():
            await socket.send(
                json.dumps({"id": name, "type": "subscribe", "payload": {"query": query}})
            )
        async for raw in socket:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    yield "error", f"{message.get('id')}: {payload['errors'][0].get('message')}"
                if payload.get("data"):
                    yield str(message.get("id")), payload["data"]
            elif kind == "error":
                errors = message.get("payload") or [{}]
                yield "error", f"{message.get('id')}: {errors[0].get('message', errors)}"


async def pump(
    credential: Credential, subscriptions: dict[str, str], queue: asyncio.Queue[tuple[str, Any]]
) -> None:
    """Feed `follow`'s results into a bounded queue (the reader waits when it is full)."""
    async for item in follow(credential, subscriptions):
        await queue.put(item)
    raise ApiError("the API closed the subscription socket", "UNAVAILABLE")

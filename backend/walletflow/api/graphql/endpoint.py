"""`/graphql` over HTTP and graphql-transport-ws: authenticate first, then Strawberry.

The gate resolves the principal before any GraphQL runs: an unauthenticated HTTP request gets a
typed 401, an unauthenticated websocket is closed with 4401. Resolvers read the principal from
the context; the allowlist and API keys are re-checked on every request and every connection.

Websockets are bounded per principal: at most `GRAPHQL_WS_MAX_CONNECTIONS` open at once (one
more is accepted and closed at once with 4429 and the reason `TOO_MANY_CONNECTIONS: …`), and
at most `GRAPHQL_WS_MAX_SUBSCRIPTIONS` subscriptions over all of them (see `admission.py`).
Every refusal of the HTTP transport itself (a body that is not JSON, a wrong method) is a typed
JSON error too, never strawberry's plain text.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from walletflow.api.errors import error_response
from walletflow.api.graphql.context import GraphQLContext
from walletflow.api.graphql.schema import WalletflowSchema
from walletflow.api.graphql.slots import PrincipalSlots
from walletflow.api.scope import PRINCIPAL_SCOPE_KEY
from walletflow.api.state import api_state
from walletflow.domain.errors import (
    NotFound,
    TooManyConnections,
    ValidationError,
    WalletflowError,
)
from walletflow.domain.principals import Principal

WS_UNAUTHENTICATED_CLOSE = 4401
WS_TOO_MANY_CLOSE = 4429
MAX_CLOSE_REASON_BYTES = 123


class MethodNotAllowed(ValidationError):
    code = "METHOD_NOT_ALLOWED"


def transport_error(error: HTTPException) -> WalletflowError:
    """Strawberry's refusal of an HTTP request, as a typed error."""
    if error.status_code == 404:
        return NotFound(error.reason)
    if error.status_code == 405:
        return MethodNotAllowed(error.reason)
    return ValidationError(error.reason, field_errors={"body": "malformed"})


class WalletflowGraphQL(GraphQL[GraphQLContext, None]):
    def __init__(self, schema: WalletflowSchema, *, graphql_ide: bool) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphql_ide else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # A backstop per connection; the per-principal bound answers first, typed.
            max_subscriptions_per_connection=2 * schema.ws_max_subscriptions,
        )
        self.connections = PrincipalSlots(schema.ws_max_connections)
        self.subscriptions = PrincipalSlots(schema.ws_max_subscriptions)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = error_response(transport_error(error), error.status_code)
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal = scope[PRINCIPAL_SCOPE_KEY]
        if not self.connections.acquire(principal):
            refusal = TooManyConnections(
                f"at most {self.connections.limit} open websockets per principal"
            )
            websocket = WebSocket(scope, receive=receive, send=send)
            offered = scope.get("subprotocols") or []
            chosen = (
                GRAPHQL_TRANSPORT_WS_PROTOCOL if GRAPHQL_TRANSPORT_WS_PROTOCOL in offered else None
            )
            await websocket.accept(subprotocol=chosen)
            reason = f"{refusal.code}: {refusal.message}".encode()[:MAX_CLOSE_REASON_BYTES]
            await websocket.close(code=WS_TOO_MANY_CLOSE, reason=reason.decode(errors="ignore"))
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.connections.release(principal)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        principal: Principal = request.scope[PRINCIPAL_SCOPE_KEY]
        is_websocket = request.scope["type"] == "websocket"
        return GraphQLContext(
            state=api_state(request),
            principal=principal,
            credentials=(dict(request.headers), dict(request.cookies)),
            over_get=not is_websocket and request.scope.get("method") == "GET",
            subscription_slots=self.subscriptions if is_websocket else None,
        )


def graphql_app(schema: Any, *, graphql_ide: bool) -> WalletflowGraphQL:
    assert isinstance(schema, WalletflowSchema), "the endpoint serves walletflow's schema"
    return WalletflowGraphQL(schema, graphql_ide=graphql_ide)


class AuthGate:
    """Resolve the caller before the wrapped app; refuse with a typed error otherwise."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope, receive)
        authenticator = api_state(connection).authenticator
        try:
            principal = await authenticator.principal(connection.headers, connection.cookies)
        except WalletflowError as error:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WS_UNAUTHENTICATED_CLOSE})
                return
            await error_response(error)(scope, receive, send)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        await self.app(scope, receive, send)

"""`/graphql` over HTTP and graphql-transport-ws: authenticate first, then Strawberry.

The gate resolves the principal before any GraphQL runs: an unauthenticated HTTP request gets a
typed 401, an unauthenticated websocket is closed with 4401. Resolvers read the principal from
the context; the allowlist and API keys are re-checked on every request and every connection.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from walletflow.api.errors import error_response
from walletflow.api.graphql.context import GraphQLContext
from walletflow.api.state import api_state
from walletflow.domain.errors import WalletflowError
from walletflow.domain.principals import Principal

PRINCIPAL_SCOPE_KEY = "walletflow.principal"
WS_UNAUTHENTICATED_CLOSE = 4401


class WalletflowGraphQL(GraphQL[GraphQLContext, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> GraphQLContext:
        principal: Principal = request.scope[PRINCIPAL_SCOPE_KEY]
        return GraphQLContext(
            state=api_state(request),
            principal=principal,
            credentials=(dict(request.headers), dict(request.cookies)),
        )


def graphql_app(schema: Any, *, graphql_ide: bool) -> WalletflowGraphQL:
    return WalletflowGraphQL(
        schema,
        graphql_ide="graphiql" if graphql_ide else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )


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

"""The API through a real ASGI client with the app's lifespan run, on this test's database."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from walletflow.api.app import create_app
from walletflow.api.auth.sessions import SESSION_COOKIE, Session
from walletflow.api.state import ApiState
from walletflow.config import load_settings
from walletflow.service.clock import ManualClock

AUTH_TOKEN = "operator-token-0123456789abcdef"
OPERATOR_EMAIL = "op@example.com"
ADMIN_EMAIL = "boss@example.com"
_keys = itertools.count()

CREATE_KEY = """
mutation($role: String!, $merchantId: String, $expiresAt: DateTime) {
  createApiKey(role: $role, merchantId: $merchantId, expiresAt: $expiresAt) {
    __typename
    ... on CreatedApiKey { token key { keyId } }
    ... on Error { code message }
  }
}"""


def fresh_key() -> str:
    return f"api-test-{next(_keys)}"


@dataclass
class Api:
    app: Starlette
    client: httpx.AsyncClient
    clock: ManualClock
    redis: Redis
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> ApiState:
        state: ApiState = self.app.state.api
        return state

    def headers_for(self, who: str | None) -> dict[str, str]:
        """`admin` (AUTH_TOKEN), `operator` (a Google session), a created key's name, or None."""
        if who is None:
            return {}
        if who == "admin":
            return {"authorization": f"Bearer {AUTH_TOKEN}"}
        if who == "operator":
            return {"cookie": f"{SESSION_COOKIE}={self.google_cookie(OPERATOR_EMAIL)}"}
        return {"authorization": f"Bearer {self.tokens[who]}"}

    def google_cookie(self, email: str) -> str:
        return self.state.authenticator.signer.dumps(Session("google", email))

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        who: str | None = "admin",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.headers_for(who), **(headers or {})},
        )

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, who: str | None = "admin"
    ) -> dict[str, Any]:
        response = await self.graphql(query, variables, who=who)
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    async def mutate(
        self,
        name: str,
        raw: dict[str, Any] | None = None,
        *,
        who: str = "admin",
        key: str | None = None,
        selection: str = "",
    ) -> dict[str, Any]:
        """Run the generated mutation `name` and return its result object (with __typename)."""
        has_input = raw is not None
        signature = "($key: String!, $input: %sInput!)" % (name[:1].upper() + name[1:])
        if not has_input:
            signature = "($key: String!)"
        arguments = "idempotencyKey: $key" + (", input: $input" if has_input else "")
        query = f"""mutation{signature} {{ {name}({arguments}) {{
            __typename
            ... on CommandSuccess {{ command status reference transactionId replayed
                                    balances {{ account asset balanceMinor formatted }} data }}
            ... on Error {{ code message retryable details }}
            ... on ValidationError {{ fieldErrors {{ path message }} }}
            {selection}
        }} }}"""
        variables: dict[str, Any] = {"key": key or fresh_key()}
        if has_input:
            variables["input"] = raw
        data = await self.data(query, variables, who=who)
        result: dict[str, Any] = data[name]
        return result

    async def create_key(
        self, name: str, role: str, merchant_id: str | None = None, expires_at: str | None = None
    ) -> str:
        data = await self.data(
            CREATE_KEY, {"role": role, "merchantId": merchant_id, "expiresAt": expires_at}
        )
        result = data["createApiKey"]
        assert result["__typename"] == "CreatedApiKey", result
        self.tokens[name] = result["token"]
        key_id: str = result["key"]["keyId"]
        return key_id


@pytest.fixture
def api_env() -> dict[str, str]:
    return {
        "AUTH_TOKEN": AUTH_TOKEN,
        "SESSION_SECRET": "s" * 40,
        "OPS_ALLOWED_EMAILS": OPERATOR_EMAIL,
        "OPS_ADMIN_EMAILS": ADMIN_EMAIL,
    }


@pytest.fixture
async def api(
    database_url: str, redis_url: str, redis: Redis, clock: ManualClock, api_env: dict[str, str]
) -> AsyncIterator[Api]:
    app = create_app(
        load_settings(api_env),
        database_url,
        redis_url,
        clock=clock,
        unix_now=lambda: clock.now().timestamp(),
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
            yield Api(app=app, client=client, clock=clock, redis=redis)


@pytest.fixture
async def keyed_api(api: Api) -> Api:
    """`api` with keys: merchant `m1`, merchant `m2`, and `analyst`."""
    await api.create_key("m1", "merchant", "m1")
    await api.create_key("m2", "merchant", "m2")
    await api.create_key("analyst", "analyst")
    return api

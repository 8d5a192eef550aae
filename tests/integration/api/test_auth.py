"""Sign-in: AUTH_TOKEN for a session cookie or as Bearer, Google sessions re-checked against the
allowlist on every request, API keys refused once expired or revoked, dev open mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tests.integration.api.conftest import (
    ADMIN_EMAIL,
    AUTH_TOKEN,
    OPERATOR_EMAIL,
    Api,
    fresh_key,
)
from walletflow.api.app import create_app
from walletflow.api.auth.routes import complete_google_sign_in
from walletflow.api.auth.sessions import SESSION_COOKIE
from walletflow.config import load_settings

ME = "{ me { role subject merchantId openDev } }"


async def test_token_sign_in_sets_a_12_hour_httponly_secure_samesite_cookie(api: Api) -> None:
    response = await api.client.post("/auth/token", json={"token": AUTH_TOKEN})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert {"httponly", "secure", "samesite", "max-age", "path"} <= attributes
    assert "Max-Age=43200" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    # The client now holds the cookie: GraphQL answers as the admin.
    me = await api.client.post("/graphql", json={"query": ME})
    assert me.json()["data"]["me"]["role"] == "admin"
    out = await api.client.post("/auth/logout")
    assert out.status_code == 200
    assert 'wf_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]


async def test_wrong_token_is_refused_and_gets_no_cookie(api: Api) -> None:
    response = await api.client.post("/auth/token", json={"token": "not-the-token-at-all"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert "set-cookie" not in response.headers
    malformed = await api.client.post("/auth/token", content=b"{not json")
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_bearer_token_works_without_a_cookie(api: Api) -> None:
    assert (await api.data(ME, who="admin"))["me"]["role"] == "admin"


async def test_no_credentials_are_refused_with_a_typed_401(api: Api) -> None:
    response = await api.graphql(ME, who=None)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    forged = await api.graphql(ME, who=None, headers={"cookie": f"{SESSION_COOKIE}=forged.x.y"})
    assert forged.status_code == 401
    bad_bearer = await api.graphql(ME, who=None, headers={"authorization": "Bearer nope"})
    assert bad_bearer.status_code == 401


async def test_removing_an_email_from_the_allowlist_locks_its_session_out_at_once(
    api: Api,
) -> None:
    assert (await api.data(ME, who="operator"))["me"] == {
        "role": "operator",
        "subject": OPERATOR_EMAIL,
        "merchantId": None,
        "openDev": False,
    }
    saved = await api.mutate("saveAccessLists", {"allowedEmails": [], "adminEmails": [ADMIN_EMAIL]})
    assert saved["__typename"] == "CommandSuccess", saved
    locked = await api.graphql(ME, who="operator")
    assert locked.status_code == 401
    assert locked.json()["error"]["code"] == "UNAUTHENTICATED"
    admin_session = {"cookie": f"{SESSION_COOKIE}={api.google_cookie(ADMIN_EMAIL)}"}
    still_in = await api.graphql(ME, who=None, headers=admin_session)
    assert still_in.json()["data"]["me"]["role"] == "admin"


async def test_google_sign_in_needs_a_verified_allowlisted_email(api: Api) -> None:
    authenticator = api.state.authenticator
    refused = await complete_google_sign_in(
        authenticator, {"email": "stranger@example.com", "email_verified": True}
    )
    assert refused.status_code == 401
    unverified = await complete_google_sign_in(
        authenticator, {"email": OPERATOR_EMAIL, "email_verified": False}
    )
    assert unverified.status_code == 401
    accepted = await complete_google_sign_in(
        authenticator, {"email": OPERATOR_EMAIL.upper(), "email_verified": True}
    )
    assert accepted.status_code == 303
    cookie = accepted.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "Max-Age=43200" in cookie


async def test_google_endpoints_are_404_when_google_is_not_configured(api: Api) -> None:
    assert (await api.client.get("/auth/google/login")).status_code == 404


async def test_expired_and_revoked_api_keys_are_refused(api: Api) -> None:
    expires = (api.clock.now() + timedelta(hours=1)).isoformat()
    await api.create_key("short", "analyst", expires_at=expires)
    key_id = await api.create_key("revoked", "merchant", "m1")
    assert (await api.data(ME, who="short"))["me"]["role"] == "analyst"
    assert (await api.data(ME, who="revoked"))["me"]["merchantId"] == "m1"

    api.clock.advance(timedelta(hours=1, seconds=1))
    expired = await api.graphql(ME, who="short")
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "UNAUTHENTICATED"

    revoke = """mutation($id: String!) {
      revokeApiKey(keyId: $id) { __typename ... on ApiKeyInfo { revokedAt } } }"""
    result = (await api.data(revoke, {"id": key_id}))["revokeApiKey"]
    assert result["__typename"] == "ApiKeyInfo" and result["revokedAt"] is not None
    assert (await api.graphql(ME, who="revoked")).status_code == 401
    tampered = api.tokens["revoked"][:-2] + "zz"
    response = await api.graphql(ME, who=None, headers={"authorization": f"Bearer {tampered}"})
    assert response.status_code == 401


async def test_api_key_secrets_are_hashed_at_rest(api: Api) -> None:
    await api.create_key("k", "analyst")
    secret = api.tokens["k"].split("_", 2)[2]
    async with api.state.container.engine.connect() as connection:
        from sqlalchemy import select

        from walletflow.db.schema_api import api_keys

        rows = (await connection.execute(select(api_keys))).all()
    assert rows and all(secret not in str(tuple(row)) for row in rows)


async def test_analyst_can_never_mutate(api: Api) -> None:
    await api.create_key("analyst", "analyst")
    result = await api.mutate(
        "createWallet", {"merchantId": "m1", "currency": "NGN"}, who="analyst", key=fresh_key()
    )
    assert result["__typename"] == "Forbidden"


@pytest.fixture
async def open_client(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(load_settings({}), database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as client:
            yield client


async def test_dev_with_no_auth_configured_is_open_as_admin_and_says_so(
    open_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await open_client.post("/graphql", json={"query": ME})
    assert response.json()["data"]["me"] == {
        "role": "admin",
        "subject": "dev-open",
        "merchantId": None,
        "openDev": True,
    }
    assert (await open_client.get("/auth/me")).json()["openDev"] is True
    warnings = [record.getMessage() for record in caplog.get_records("setup")]
    assert any("NO AUTH CONFIGURED" in message for message in warnings), warnings

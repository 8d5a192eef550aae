"""The dashboard's only way to the walletflow API: GraphQL over HTTP (httpx) and the sign-in
endpoints. Runs on the Reflex backend, never in the browser; credentials stay server-side.

A credential is either the API session cookie (from `POST /auth/token`) or a bearer (an API key
`wf_<id>_<secret>`); `Credential.headers()` turns it into request headers. `/auth/me` answers are
parsed into `Me`; GraphQL answers come back as `data` for `results.parse` to type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
REQUEST_TIMEOUT_S = 15.0
SESSION_COOKIE = "wf_session"
API_KEY_PREFIX = "wf_"


def api_url() -> str:
    """The API base URL (set by `walletflow dashboard` as WALLETFLOW_API_URL)."""
    return (os.environ.get("WALLETFLOW_API_URL") or DEFAULT_API_URL).rstrip("/")


def ws_url() -> str:
    base = api_url()
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/graphql"
    return "ws://" + base.removeprefix("http://") + "/graphql"


@dataclass(frozen=True)
class Credential:
    kind: str
    """`session` (an API session cookie), `bearer` (an API key) or `open` (dev, no auth)."""
    secret: str

    def headers(self) -> dict[str, str]:
        if self.kind == "session":
            return {"Cookie": f"{SESSION_COOKIE}={self.secret}"}
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {self.secret}"}
        return {}


class ApiError(Exception):
    """The API could not answer (transport, 5xx, or a GraphQL-level error)."""

    def __init__(self, message: str, code: str = "API_ERROR") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Me:
    """`GET /auth/me`: who a credential is; signed out, only which sign-in the API offers."""

    role: str = ""
    subject: str = ""
    merchant_id: str = ""
    open_dev: bool = False
    google_sign_in: bool = False

    @classmethod
    def of(cls, body: Any) -> Me:
        if not isinstance(body, dict):
            raise ApiError("unexpected answer from /auth/me", "BAD_RESPONSE")
        return cls(
            role=str(body.get("role", "")),
            subject=str(body.get("subject", "")),
            merchant_id=str(body.get("merchantId") or ""),
            open_dev=bool(body.get("openDev")),
            google_sign_in=bool(body.get("googleSignIn")),
        )


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api_url(), timeout=REQUEST_TIMEOUT_S)


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(str(error.get("message", "")), str(error.get("code", "API_ERROR")))
    return ApiError(f"HTTP {response.status_code}", f"HTTP_{response.status_code}")


async def sign_in(secret: str) -> tuple[Credential, Me]:
    """An operator token → a session cookie; an API key → a bearer. Returns `/auth/me`."""
    secret = secret.strip()
    if not secret:
        raise ApiError("enter a token or an API key", "VALIDATION_ERROR")
    async with _client() as client:
        if secret.startswith(API_KEY_PREFIX):
            credential = Credential("bearer", secret)
        else:
            response = await client.post("/auth/token", json={"token": secret})
            if response.status_code != 200:
                raise _error_of(response)
            cookie = _session_cookie(response)
            if cookie is None:
                raise ApiError("the API did not return a session cookie", "UNAUTHENTICATED")
            credential = Credential("session", cookie)
        me = await who_am_i(client, credential)
    return credential, me


def _session_cookie(response: httpx.Response) -> str | None:
    # The cookie is Secure; httpx would not send it back over plain http, so read it directly.
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name.strip() == SESSION_COOKIE:
            return rest.split(";", 1)[0].strip()
    return None


async def who_am_i(client: httpx.AsyncClient, credential: Credential) -> Me:
    response = await client.get("/auth/me", headers=credential.headers())
    if response.status_code != 200:
        raise _error_of(response)
    return Me.of(response.json())


async def me(credential: Credential) -> Me:
    """Who this credential is now (the API re-checks allowlists and keys on every request)."""
    async with _client() as client:
        try:
            return await who_am_i(client, credential)
        except httpx.HTTPError as error:
            raise ApiError(f"API unreachable: {type(error).__name__}", "UNAVAILABLE") from error


async def auth_status() -> Me:
    """What the API says to an anonymous caller: open dev mode, Google sign-in configured."""
    async with _client() as client:
        response = await client.get("/auth/me")
        if response.status_code == 200:
            return Me.of(response.json())
        # Signed out: /auth/me refuses; Google is configured when its login route exists.
        google = await client.get("/auth/google/login", follow_redirects=False)
        return Me(open_dev=False, google_sign_in=google.status_code in (302, 303, 307))


async def sign_out(credential: Credential) -> None:
    async with _client() as client:
        await client.post("/auth/logout", headers=credential.headers())


async def graphql(
    credential: Credential, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run one GraphQL operation; return `data`, or raise ApiError with the first error."""
    async with _client() as client:
        try:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers=credential.headers(),
            )
        except httpx.HTTPError as error:
            raise ApiError(f"API unreachable: {type(error).__name__}", "UNAVAILABLE") from error
    if response.status_code >= 400 and response.status_code != 400:
        raise _error_of(response)
    try:
        body = response.json()
    except ValueError as error:
        raise ApiError(f"HTTP {response.status_code}: not JSON") from error
    errors = body.get("errors") or []
    if errors and not body.get("data"):
        first = errors[0]
        code = (first.get("extensions") or {}).get("code", "GRAPHQL_ERROR")
        raise ApiError(str(first.get("message", "")), str(code))
    data: dict[str, Any] = body.get("data") or {}
    return data

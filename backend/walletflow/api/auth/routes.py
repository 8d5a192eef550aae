"""Sign-in endpoints: `POST /auth/token`, `POST /auth/logout`, `GET /auth/me`, and Google
OIDC (`/auth/google/login`, `/auth/google/callback`) when GOOGLE_CLIENT_ID/SECRET are set."""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from walletflow.api.auth.authenticator import Authenticator
from walletflow.api.auth.sessions import (
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Session,
    token_fingerprint,
)
from walletflow.api.errors import error_response
from walletflow.api.state import api_state
from walletflow.domain.errors import NotFound, Unauthenticated, ValidationError, WalletflowError

log = logging.getLogger(__name__)

MAX_SIGN_IN_BODY_BYTES = 4096
GOOGLE_AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_USERINFO_URL = "https://openidconnect.googleapis.com/v1/userinfo"
GOOGLE_ISSUER = "https://accounts.google.com"


def set_session_cookie(response: Response, authenticator: Authenticator, session: Session) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        authenticator.signer.dumps(session),
        max_age=SESSION_MAX_AGE_S,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )


async def sign_in_with_token(request: Request) -> Response:
    """`{"token": AUTH_TOKEN}` → 200 with the session cookie; a wrong token → 401."""
    authenticator = api_state(request).authenticator
    body = await request.body()
    try:
        if len(body) > MAX_SIGN_IN_BODY_BYTES:
            raise ValidationError("body too large", field_errors={"token": "too long"})
        try:
            payload: Any = json.loads(body or b"{}")
        except ValueError:
            raise ValidationError("body must be JSON", field_errors={"body": "not JSON"}) from None
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise ValidationError("token is required", field_errors={"token": "required"})
        if not authenticator.check_auth_token(token):
            raise Unauthenticated("wrong token")
    except WalletflowError as error:
        return error_response(error)
    response = JSONResponse({"ok": True, "role": "admin", "expiresInS": SESSION_MAX_AGE_S})
    set_session_cookie(response, authenticator, Session("token", token_fingerprint(token)))
    return response


async def sign_out(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


async def who_am_i(request: Request) -> Response:
    state = api_state(request)
    try:
        principal = await state.authenticator.principal(request.headers, request.cookies)
    except WalletflowError as error:
        return error_response(error)
    return JSONResponse(
        {
            "role": principal.role.value,
            "subject": principal.subject,
            "merchantId": principal.merchant_id,
            "openDev": state.authenticator.open_dev,
            "googleSignIn": state.oauth is not None,
        }
    )


async def google_login(request: Request) -> Response:
    oauth = api_state(request).oauth
    if oauth is None:
        return error_response(NotFound("Google sign-in is not configured"))
    redirect_uri = str(request.url_for("google_callback"))
    response: Response = await oauth.google.authorize_redirect(request, redirect_uri)
    return response


async def google_callback(request: Request) -> Response:
    state = api_state(request)
    if state.oauth is None:
        return error_response(NotFound("Google sign-in is not configured"))
    try:
        token = await state.oauth.google.authorize_access_token(request)
    except Exception as error:  # authlib raises several types for a failed exchange
        log.warning("Google sign-in failed: %s", type(error).__name__)
        return error_response(Unauthenticated("Google sign-in failed"))
    userinfo = token.get("userinfo") or {}
    return await complete_google_sign_in(state.authenticator, userinfo)


async def complete_google_sign_in(
    authenticator: Authenticator, userinfo: dict[str, Any]
) -> Response:
    """A verified Google identity → the session cookie, if its email is on the allowlist."""
    email = str(userinfo.get("email") or "").strip().lower()
    if not email or userinfo.get("email_verified") is not True:
        return error_response(Unauthenticated("Google did not confirm a verified email"))
    role = await authenticator.email_role(email)
    if role is None:
        log.warning("Google sign-in refused for %s: not on the allowlist", email)
        return error_response(Unauthenticated(f"{email} is not allowed; ask an admin"))
    response = RedirectResponse("/", status_code=303)
    set_session_cookie(response, authenticator, Session("google", email))
    return response


routes = [
    Route("/auth/token", sign_in_with_token, methods=["POST"]),
    Route("/auth/logout", sign_out, methods=["POST"]),
    Route("/auth/me", who_am_i, methods=["GET"]),
    Route("/auth/google/login", google_login, methods=["GET"], name="google_login"),
    Route("/auth/google/callback", google_callback, methods=["GET"], name="google_callback"),
]

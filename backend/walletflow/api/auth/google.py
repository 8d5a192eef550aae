"""Google OIDC client (authlib), registered with explicit endpoints: no discovery fetch."""

from __future__ import annotations

from authlib.integrations.starlette_client import OAuth

from walletflow.api.auth.routes import (
    GOOGLE_AUTHORIZE_URL,
    GOOGLE_ISSUER,
    GOOGLE_JWKS_URL,
    GOOGLE_TOKEN_URL,
    GOOGLE_USERINFO_URL,
)
from walletflow.config import Settings


def google_oauth(settings: Settings) -> OAuth | None:
    if not (settings.google_client_id and settings.google_client_secret):
        return None
    oauth = OAuth()
    oauth.register(
        "google",
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret,
        authorize_url=GOOGLE_AUTHORIZE_URL,
        access_token_url=GOOGLE_TOKEN_URL,
        jwks_uri=GOOGLE_JWKS_URL,
        userinfo_endpoint=GOOGLE_USERINFO_URL,
        issuer=GOOGLE_ISSUER,
        client_kwargs={"scope": "openid email profile"},
    )
    return oauth

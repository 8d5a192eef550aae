"""Turn a request's credentials into a `Principal`, or refuse with `Unauthenticated`.

Order: `Authorization: Bearer` (an API key `wf_…`, or AUTH_TOKEN), then the session cookie.
With no auth configured in dev, an anonymous request is the admin (announced loudly at start);
production with no auth configured never gets this far (config refuses to start).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.api.auth.api_keys import authenticate_api_key, looks_like_api_key
from walletflow.api.auth.sessions import SESSION_COOKIE, Session, SessionSigner, token_fingerprint
from walletflow.config import Settings
from walletflow.db.errors import database_unavailable
from walletflow.domain.errors import Unauthenticated, WalletflowError
from walletflow.domain.principals import Principal, Role
from walletflow.observability.context import bind_actor
from walletflow.service.access_lists import load_access_lists
from walletflow.service.clock import Clock

log = logging.getLogger(__name__)

MAX_AUTHORIZATION_LENGTH = 512
DEV_OPEN_PRINCIPAL = Principal(Role.ADMIN, "dev-open")
TOKEN_SUBJECT = "auth-token"


class Authenticator:
    def __init__(self, settings: Settings, engine: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.signer = SessionSigner(settings)
        self._engine = engine
        self._clock = clock

    @property
    def open_dev(self) -> bool:
        return not self.settings.auth_configured and not self.settings.is_production

    def check_auth_token(self, candidate: str) -> bool:
        token = self.settings.auth_token
        if not token:
            return False
        return hmac.compare_digest(candidate.encode(), token.encode())

    async def principal(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Principal:
        """The caller; `Unauthenticated` if refused, `Unavailable` (retryable, 503) when the
        database that holds API keys and access lists cannot be reached. The caller's subject
        becomes the `actor` of every log line of this request."""
        try:
            principal = await self._principal(headers, cookies)
            bind_actor(principal.subject)
            return principal
        except WalletflowError:
            raise
        except Exception as error:
            unavailable = database_unavailable(error)
            if unavailable is None:
                raise
            raise unavailable from error

    async def _principal(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Principal:
        authorization = headers.get("authorization")
        if authorization is not None:
            return await self._bearer(authorization)
        cookie = cookies.get(SESSION_COOKIE)
        if cookie is not None:
            session = self.signer.loads(cookie)
            if session is None:
                raise Unauthenticated("session expired or invalid; sign in again")
            return await self.session_principal(session)
        if self.open_dev:
            return DEV_OPEN_PRINCIPAL
        raise Unauthenticated("sign in, or send Authorization: Bearer <token or API key>")

    async def _bearer(self, authorization: str) -> Principal:
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if (
            scheme.lower() != "bearer"
            or not credential
            or len(authorization) > MAX_AUTHORIZATION_LENGTH
        ):
            raise Unauthenticated("Authorization must be 'Bearer <token or API key>'")
        if looks_like_api_key(credential):
            async with self._engine.connect() as connection:
                key = await authenticate_api_key(connection, credential, self._clock.now())
            return key.principal()
        if self.check_auth_token(credential):
            return Principal(Role.ADMIN, TOKEN_SUBJECT)
        raise Unauthenticated("invalid bearer token")

    async def session_principal(self, session: Session) -> Principal:
        if session.kind == "token":
            token = self.settings.auth_token
            if token and hmac.compare_digest(session.subject, token_fingerprint(token)):
                return Principal(Role.ADMIN, TOKEN_SUBJECT)
            raise Unauthenticated("the operator token changed; sign in again")
        role = await self.email_role(session.subject)
        if role is None:
            raise Unauthenticated(f"{session.subject} is no longer allowed; ask an admin")
        return Principal(role, session.subject)

    async def email_role(self, email: str) -> Role | None:
        """The allowlist, read now (settings, or the lists an admin saved)."""
        async with self._engine.connect() as connection:
            lists = await load_access_lists(
                connection, self.settings.ops_allowed_emails, self.settings.ops_admin_emails
            )
        role = lists.role_of(email)
        return None if role is None else Role(role)

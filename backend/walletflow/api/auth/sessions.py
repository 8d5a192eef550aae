"""The signed session cookie: HttpOnly, Secure, SameSite=Lax, 12 hours.

The cookie holds who signed in and how, signed with SESSION_SECRET (itsdangerous); nothing is
stored server-side. A Google session names an email, re-checked against the allowlist on every
request; a token session names a fingerprint of AUTH_TOKEN, so rotating the token ends it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from walletflow.config import Settings

log = logging.getLogger(__name__)

SESSION_COOKIE = "wf_session"
SESSION_MAX_AGE_S = 12 * 60 * 60
MAX_COOKIE_BYTES = 4096
SESSION_SALT = "walletflow.session.v1"


@dataclass(frozen=True)
class Session:
    kind: str
    """`token` (signed in with AUTH_TOKEN) or `google` (an allowlisted email)."""
    subject: str
    """The token fingerprint, or the email."""


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(f"walletflow-auth-token:{token}".encode()).hexdigest()[:32]


class SessionSigner:
    def __init__(self, settings: Settings) -> None:
        secret = settings.session_secret
        if secret is None:
            # Dev only (production refuses to start without one): sessions end at restart.
            log.warning("SESSION_SECRET is not set: using a random per-process session secret")
            secret = secrets.token_urlsafe(32)
        self._serializer = URLSafeTimedSerializer(secret, salt=SESSION_SALT)

    def dumps(self, session: Session) -> str:
        return str(self._serializer.dumps({"k": session.kind, "s": session.subject}))

    def loads(self, cookie: str) -> Session | None:
        """The session in a cookie, or None if it is forged, malformed or older than 12 h."""
        if len(cookie) > MAX_COOKIE_BYTES:
            return None
        try:
            body: Any = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(body, dict):
            return None
        kind, subject = body.get("k"), body.get("s")
        if kind not in {"token", "google"} or not isinstance(subject, str):
            return None
        return Session(kind, subject)

"""Rate limits per principal at the API: the request limit in front of /graphql (HTTP 429 with
`Retry-After`), the money-command limit before the bus (`RATE_LIMITED` with `retryAfterS`) and
the audit entry of a refusal. The counting, in Redis, is `api/rate_limiter.py`."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from walletflow.api.rate_limiter import RateKind, Verdict
from walletflow.api.scope import PRINCIPAL_SCOPE_KEY
from walletflow.api.state import api_state
from walletflow.audit.recorder import AuditEntry, record_alone
from walletflow.domain.errors import RateLimited
from walletflow.domain.principals import Principal

log = logging.getLogger(__name__)

WS_RATE_LIMITED_CLOSE = 4429


async def record_refusal(
    engine: AsyncEngine,
    principal: Principal,
    kind: RateKind,
    verdict: Verdict,
    at: datetime,
    command: str | None = None,
) -> None:
    """Audit the first refusal of a window (later ones in it would only flood the log)."""
    if not verdict.first_refusal:
        return
    entry = AuditEntry(
        action="command",
        outcome="refused",
        actor=principal.subject,
        role=principal.role.value,
        command=command,
        merchant_id=principal.merchant_id,
        error_code=RateLimited.code,
        details={
            "limit": kind.value,
            "limitPerMin": verdict.limit_per_min,
            "retryAfterS": verdict.retry_after_s,
        },
    )
    try:
        await record_alone(engine, entry, at=at)
    except Exception:
        log.exception("could not audit a rate-limit refusal")


def rate_limited_body(error: RateLimited) -> bytes:
    """The 429 body: the plain HTTP error shape and a GraphQL `errors` entry, both typed."""
    extensions = {"code": error.code, "retryable": True, "retryAfterS": error.retry_after_s}
    return json.dumps(
        {
            "error": {**error.to_dict(), "retryable": True},
            "errors": [{"message": error.message, "extensions": extensions}],
        }
    ).encode()


class RequestRateLimit:
    """Per-principal request limit in front of /graphql (after authentication): HTTP 429 with
    `Retry-After`; a websocket is closed with 4429 before it is accepted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal: Principal = scope[PRINCIPAL_SCOPE_KEY]
        state = api_state(HTTPConnection(scope, receive))
        verdict = await state.rate_limiter.hit(RateKind.REQUESTS, principal)
        if verdict.allowed:
            await self.app(scope, receive, send)
            return
        container = state.container
        await record_refusal(
            container.engine, principal, RateKind.REQUESTS, verdict, container.clock.now()
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WS_RATE_LIMITED_CLOSE})
            return
        body = rate_limited_body(verdict.error(RateKind.REQUESTS))
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(verdict.retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

"""The API's outer middleware: request context (id, access log, metrics, trace) and security
headers. Both are plain ASGI, so they see every response, the 413 of the body limit, CORS
refusals and errors included.

Request id: a well-formed `X-Request-Id` from the caller is kept, else one is made up; it is
bound for every log line of the request and returned in the response's `X-Request-Id`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from walletflow.observability import metrics
from walletflow.observability.context import (
    REQUEST_ID_HEADER,
    accept_request_id,
    actor_var,
    bind_request_id,
    request_id_var,
)
from walletflow.observability.tracing import incoming_traceparent, set_attribute, span

log = logging.getLogger("walletflow.access")

UNMATCHED_ROUTE = "unmatched"
QUIET_ROUTES = frozenset({"/metrics", "/livez", "/readyz", "/healthz"})
"""Probes and scrapes: logged at DEBUG, not once per scrape at INFO."""


def route_template(scope: Scope) -> str:
    """The matched route's template (`/webhooks/{provider}`): bounded, unlike the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestContext:
    """Bind the request id, time the request, count it by route/method/status, log one access
    line, and (when tracing is on) wrap it in a server span."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = accept_request_id(headers.get(REQUEST_ID_HEADER))
        request_token = bind_request_id(request_id)
        actor_token = actor_var.set(actor_var.get())
        method = scope.get("method", "WS") if scope["type"] == "http" else "WS"
        status = [0]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        started = time.perf_counter()
        # A websocket lives as long as its subscriptions: it is logged, not timed as a request.
        timed = scope["type"] == "http"
        if timed:
            metrics.HTTP_IN_FLIGHT.inc()
        try:
            with span(
                f"{method} {scope.get('path', '')}"[:200],
                kind="server",
                parent=incoming_traceparent(headers),
                attributes={"http.request.method": method, "walletflow.request_id": request_id},
            ) as current:
                try:
                    await self.app(scope, receive, send_with_id)
                except Exception:
                    status[0] = status[0] or 500
                    raise
                finally:
                    set_attribute(current, "http.route", route_template(scope))
                    set_attribute(current, "http.response.status_code", status[0])
        finally:
            elapsed_s = time.perf_counter() - started
            route = route_template(scope)
            if timed:
                metrics.HTTP_IN_FLIGHT.dec()
                metrics.HTTP_REQUESTS.labels(route, method, str(status[0])).inc()
                metrics.HTTP_DURATION.labels(route, method).observe(elapsed_s)
            log.log(
                logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                "%s %s %s",
                method,
                route,
                status[0],
                extra={
                    "event": "request",
                    "method": method,
                    "route": route,
                    "status": status[0],
                    "duration_ms": round(elapsed_s * 1000, 2),
                },
            )
            actor_var.reset(actor_token)
            request_id_var.reset(request_token)


API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# GraphiQL (dev only, an HTML page on GET /graphql) loads its scripts and styles from unpkg.
GRAPHIQL_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data: https://unpkg.com; "
    "font-src 'self' data: https://unpkg.com; connect-src 'self' ws: wss:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=63072000; includeSubDomains"


def security_headers(*, production: bool, html: bool) -> Iterable[tuple[str, str]]:
    yield "x-content-type-options", "nosniff"
    yield "x-frame-options", "DENY"
    yield "referrer-policy", "no-referrer"
    yield "cross-origin-opener-policy", "same-origin"
    yield "content-security-policy", GRAPHIQL_CSP if html else API_CSP
    if production:
        yield "strict-transport-security", HSTS


class SecurityHeaders:
    """Set the security headers on every HTTP response (an endpoint's own value wins)."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                for name, value in security_headers(production=self.production, html=html):
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

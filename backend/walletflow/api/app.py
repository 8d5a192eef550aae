"""The Starlette application: routes + middleware + a lifespan that owns the resources.

Routes: `/healthz`, `/livez`, `/readyz`, `/metrics`, `/graphql` (HTTP + graphql-transport-ws),
`/webhooks/{provider}`, `/auth/token`, `/auth/logout`, `/auth/me`, `/auth/google/login`,
`/auth/google/callback`.

Middleware, outermost first: request context (request id, access log, metrics, trace span),
security headers, CORS (refused unless `CORS_ALLOWED_ORIGINS` names the origin), body size
limit, and the OAuth state session when Google sign-in is on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route, WebSocketRoute

from walletflow.api.auth.authenticator import Authenticator
from walletflow.api.auth.google import google_oauth
from walletflow.api.auth.routes import routes as auth_routes
from walletflow.api.graphql.endpoint import AuthGate, graphql_app
from walletflow.api.graphql.schema import build_schema
from walletflow.api.health import healthz, livez, readyz
from walletflow.api.limits import BodySizeLimit
from walletflow.api.metrics import metrics_endpoint
from walletflow.api.middleware import RequestContext, SecurityHeaders
from walletflow.api.rate_limiter import RateLimiter
from walletflow.api.rate_limits import RequestRateLimit
from walletflow.api.state import ApiState
from walletflow.api.webhooks import provider_webhook
from walletflow.bootstrap import build_container, open_resources
from walletflow.config import Settings
from walletflow.observability import metrics
from walletflow.observability.context import REQUEST_ID_HEADER
from walletflow.observability.tracing import configure_tracing, shutdown_tracing
from walletflow.providers.config import providers_file
from walletflow.providers.registry import ProviderRegistry
from walletflow.service.catalog import build_registry
from walletflow.service.clock import Clock
from walletflow.service.rails import PayoutRails
from walletflow.workers.metrics import HealthCache

log = logging.getLogger(__name__)

OAUTH_STATE_MAX_AGE_S = 600
CORS_MAX_AGE_S = 600


def create_app(
    settings: Settings,
    database_url: str,
    redis_url: str,
    *,
    clock: Clock | None = None,
    providers: ProviderRegistry | None = None,
    unix_now: Callable[[], float] = time.time,
) -> Starlette:
    """Build the ASGI app. Resources open in the lifespan, never at import or build time."""
    schema = build_schema(build_registry(), settings)
    oauth = google_oauth(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tracing = configure_tracing(
            settings.tracing_otlp_endpoint,
            "walletflow-api",
            sample_ratio=settings.tracing_sample_ratio,
        )
        resources = open_resources(settings, database_url, redis_url)
        app.state.resources = resources
        metrics.instrument_pool(resources.engine)
        app.state.health_cache = HealthCache(resources.engine, resources.redis)
        registry = providers or ProviderRegistry.from_file(providers_file())
        container = build_container(
            settings, resources.engine, clock=clock, rails=PayoutRails.of(registry.rails())
        )
        authenticator = Authenticator(settings, resources.engine, container.clock)
        app.state.container = container
        app.state.api = ApiState(
            resources=resources,
            container=container,
            authenticator=authenticator,
            providers=registry,
            oauth=oauth,
            unix_now=unix_now,
            rate_limiter=RateLimiter(resources.redis, settings),
        )
        if authenticator.open_dev:
            log.warning(
                "!!! NO AUTH CONFIGURED: the API is OPEN, every caller is admin (dev only). "
                "Set AUTH_TOKEN or GOOGLE_CLIENT_ID/SECRET. !!!"
            )
        try:
            yield
        finally:
            if providers is None:
                await registry.aclose()
            await container.aclose()
            metrics.release_pool(resources.engine)
            await resources.close()
            metrics.mark_this_process_dead()
            if tracing:
                shutdown_tracing()

    graphql = AuthGate(
        RequestRateLimit(graphql_app(schema, graphql_ide=not settings.is_production))
    )
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/webhooks/{provider}", provider_webhook, methods=["POST"]),
        *auth_routes,
    ]
    middleware = [
        Middleware(RequestContext),
        Middleware(SecurityHeaders, production=settings.is_production),
        # With no origins configured, every cross-origin request and preflight is refused.
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
            allow_credentials=True,
            max_age=CORS_MAX_AGE_S,
        ),
        Middleware(BodySizeLimit, max_body_bytes=settings.max_body_bytes),
    ]
    if oauth is not None:
        # authlib keeps the OAuth state here between login and callback (short-lived).
        middleware.append(
            Middleware(
                SessionMiddleware,
                secret_key=settings.session_secret or os.urandom(32).hex(),
                session_cookie="wf_oauth",
                max_age=OAUTH_STATE_MAX_AGE_S,
                same_site="lax",
                https_only=True,
            )
        )
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)

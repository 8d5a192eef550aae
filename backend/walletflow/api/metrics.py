"""`/metrics`: Prometheus text format — this API's figures (every API process's, merged, under
`serve --workers N`) followed by the system's health read from PostgreSQL and Redis.

With `METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>` (else a typed
401); without it `/metrics` is open, so keep the port off the public network.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from walletflow.api.errors import error_response
from walletflow.domain.errors import Unauthenticated
from walletflow.observability.metrics import (
    CONTENT_TYPE,
    collector_text,
    metrics_token_ok,
    process_metrics_text,
)
from walletflow.workers.metrics import HealthCache, HealthCollector


async def metrics_endpoint(request: Request) -> Response:
    token = request.app.state.resources.settings.metrics_token
    if not metrics_token_ok(token, request.headers.get("authorization")):
        return error_response(Unauthenticated("/metrics needs the metrics token"))
    cache: HealthCache = request.app.state.health_cache
    snapshot = await cache.snapshot()
    body = process_metrics_text() + collector_text(HealthCollector(snapshot))
    return Response(body, media_type=CONTENT_TYPE)

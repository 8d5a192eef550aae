"""The Starlette application: routes + middleware + a lifespan that owns the resources."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from walletflow.api.health import healthz
from walletflow.bootstrap import open_resources
from walletflow.config import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings, database_url: str, redis_url: str) -> Starlette:
    """Build the ASGI app. Resources open in the lifespan, never at import or build time."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resources = open_resources(settings, database_url, redis_url)
        app.state.resources = resources
        try:
            yield
        finally:
            await resources.close()

    routes = [Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes, lifespan=lifespan)

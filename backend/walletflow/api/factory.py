"""An import-string app factory for multi-process serving (`walletflow serve --workers N`).

Each uvicorn worker process builds its own app (and so its own pools) from the environment,
which `walletflow serve` fills with the resolved DATABASE_URL and REDIS_URL (and
PROMETHEUS_MULTIPROC_DIR, so that every process's metrics are merged on `/metrics`). A spawned
process starts with Python's default logging, so it sets up walletflow's logs first.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.observability.logging import configure_logging


def app_from_environment() -> Starlette:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, os.environ["DATABASE_URL"], os.environ["REDIS_URL"])

"""An import-string app factory for multi-process serving (`walletflow serve --workers N`).

Each uvicorn worker process builds its own app (and so its own pools) from the environment,
which `walletflow serve` fills with the resolved DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from walletflow.api.app import create_app
from walletflow.config import load_settings


def app_from_environment() -> Starlette:
    return create_app(load_settings(), os.environ["DATABASE_URL"], os.environ["REDIS_URL"])

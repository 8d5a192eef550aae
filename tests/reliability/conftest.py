"""Reliability fixtures: the API suite's in-process app (`api`, `keyed_api`) reused here."""

from __future__ import annotations

from tests.integration.api.conftest import api, api_env, keyed_api

__all__ = ["api", "api_env", "keyed_api"]

"""What the lifespan builds and every endpoint reads: `app.state.api`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from walletflow.api.auth.authenticator import Authenticator
from walletflow.bootstrap import Container, Resources
from walletflow.providers.registry import ProviderRegistry

if TYPE_CHECKING:
    from walletflow.api.rate_limiter import RateLimiter


@dataclass
class ApiState:
    resources: Resources
    container: Container
    authenticator: Authenticator
    providers: ProviderRegistry
    oauth: Any
    """authlib's `OAuth` with a `google` client, or None when Google sign-in is off."""
    unix_now: Callable[[], float]
    """Unix seconds, for webhook signature tolerance (injectable in tests)."""
    rate_limiter: RateLimiter
    """Per-principal request and money-command limits (Redis)."""


def api_state(connection: HTTPConnection) -> ApiState:
    state: ApiState = connection.app.state.api
    return state

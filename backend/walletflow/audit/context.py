"""Who is on the other end of the current request: set once per request by the API middleware,
read by the audit recorder, so that no caller has to pass the source address along."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    source_ip: str | None
    user_agent: str | None
    request_id: str | None


current_request: ContextVar[RequestInfo | None] = ContextVar("current_request", default=None)
"""The request being served, or None outside one (the CLI, a worker, a test)."""

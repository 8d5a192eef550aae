"""The request context every log line carries: a request id and an actor, in contextvars.

The API's middleware binds `request_id` (taken from a well-formed `X-Request-Id` or made up)
for each request and the authenticator binds `actor` once it knows who asks; a worker binds the
arq job id as the request id and `worker` as the actor for each job. Context variables follow
the request through every `await` (and are copied into tasks it starts), so any log line
written while serving it names both.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
NO_ACTOR = "-"

request_id_var: ContextVar[str | None] = ContextVar("walletflow_request_id", default=None)
actor_var: ContextVar[str] = ContextVar("walletflow_actor", default=NO_ACTOR)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The caller's request id when it is well formed (≤ 128 of `[A-Za-z0-9._:-]`, so it can
    never break a log line or a header), else a new one."""
    if value is not None and REQUEST_ID_RE.match(value):
        return value
    return new_request_id()


def bind_request_id(request_id: str) -> Token[str | None]:
    return request_id_var.set(request_id)


def bind_actor(actor: str) -> Token[str]:
    return actor_var.set(actor or NO_ACTOR)


def current_request_id() -> str | None:
    return request_id_var.get()


def current_actor() -> str:
    return actor_var.get()

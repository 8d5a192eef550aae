"""Append audit entries. The contract other modules rely on is fixed in AUDIT_API.md:
`AuditEntry`, `record` (inside the caller's transaction) and `record_alone` (a transaction of
its own). Request metadata comes from `audit.context.current_request`, never from the caller.

Appending takes no lock and touches no shared row: each entry is a plain INSERT that carries
the id of its database transaction (`xid`). The hash chain is sealed afterwards, in commit-safe
(xid, id) order, by `audit.chain.seal` (see there), so concurrent writers never wait on each
other for the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.audit.context import current_request
from walletflow.db.schema_audit import AUDIT_OUTCOMES, audit_log

AUDIT_ACTIONS = frozenset(
    {
        "command",
        "sign_in",
        "sign_out",
        "sign_in_refused",
        "credential_created",
        "credential_revoked",
        "api_key_created",
        "api_key_revoked",
        "session_revoked",
        "approval_requested",
        "approved",
        "rejected",
        "export",
        "policy_changed",
    }
)

MAX_TEXT = 1000
"""Free-text columns (user agent, actor, …) are cut to this many characters."""


@dataclass(frozen=True)
class AuditEntry:
    action: str
    """One of AUDIT_ACTIONS."""
    outcome: str
    """One of "success", "failure", "replay", "refused", "pending"."""
    actor: str
    """Principal.subject: an email, a credential id, an API key id, provider:x, saga, cli."""
    role: str
    """Principal.role.value."""
    command: str | None = None
    merchant_id: str | None = None
    error_code: str | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    break_glass: bool = False
    """The shared AUTH_TOKEN was used."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """JSON-safe, no secrets."""

    def __post_init__(self) -> None:
        assert self.action in AUDIT_ACTIONS, f"unknown audit action {self.action!r}"
        assert self.outcome in AUDIT_OUTCOMES, f"unknown audit outcome {self.outcome!r}"
        assert self.actor, "an audit entry names its actor"


def _cut(value: str | None) -> str | None:
    return None if value is None else value[:MAX_TEXT]


def _row(entry: AuditEntry, at: datetime) -> dict[str, Any]:
    assert at.tzinfo is not None, "audit times are timezone-aware"
    request = current_request.get()
    return {
        "at": at,
        "action": entry.action,
        "outcome": entry.outcome,
        "actor": _cut(entry.actor),
        "role": entry.role,
        "command": entry.command,
        "merchant_id": entry.merchant_id,
        "error_code": entry.error_code,
        "idempotency_key": entry.idempotency_key,
        "request_hash": entry.request_hash,
        "break_glass": entry.break_glass,
        "source_ip": _cut(request.source_ip) if request else None,
        "user_agent": _cut(request.user_agent) if request else None,
        "request_id": _cut(request.request_id) if request else None,
        "details": dict(entry.details),
    }


async def record(connection: AsyncConnection, entry: AuditEntry, *, at: datetime) -> None:
    """Append inside the caller's transaction (commits or rolls back with it)."""
    await connection.execute(insert(audit_log).values(_row(entry, at)))


async def record_alone(engine: AsyncEngine, entry: AuditEntry, *, at: datetime) -> None:
    """Append in a transaction of its own (refusals, sign-ins: the caller's work rolled back or
    none)."""
    async with engine.begin() as connection:
        await record(connection, entry, at=at)


__all__ = ["AUDIT_ACTIONS", "AuditEntry", "record", "record_alone"]

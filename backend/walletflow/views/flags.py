"""Feature flags (`core_wallet_enabled` per merchant, currency or provider scope), as set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import feature_flags
from walletflow.views.visibility import Visibility

MAX_FLAGS = 1000


@dataclass(frozen=True)
class FlagRow:
    scope_type: str
    scope_value: str
    enabled: bool
    updated_by: str
    updated_at: datetime


async def list_flags(connection: AsyncConnection, visibility: Visibility) -> list[FlagRow]:
    """Every flag in (scope type, scope value) order, at most MAX_FLAGS: staff and analysts."""
    visibility.require_everything()
    f = feature_flags.c
    statement = (
        select(f.scope_type, f.scope_value, f.enabled, f.updated_by, f.updated_at)
        .order_by(f.scope_type, f.scope_value)
        .limit(MAX_FLAGS)
    )
    rows = (await connection.execute(statement)).all()
    return [
        FlagRow(row.scope_type, row.scope_value, row.enabled, row.updated_by, row.updated_at)
        for row in rows
    ]

"""Operator and admin email allowlists: settings by default, overridden by saveAccessLists.

Read on every request by the API, so removing an email locks its session out at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import access_lists, access_lists_saved


@dataclass(frozen=True)
class AccessLists:
    allowed_emails: frozenset[str]
    admin_emails: frozenset[str]
    source: str
    """`settings` (environment) or `database` (saved by an admin)."""

    def role_of(self, email: str) -> str | None:
        normalised = email.strip().lower()
        if normalised in self.admin_emails:
            return "admin"
        if normalised in self.allowed_emails:
            return "operator"
        return None


async def load_access_lists(
    connection: AsyncConnection, default_allowed: frozenset[str], default_admins: frozenset[str]
) -> AccessLists:
    saved = (await connection.execute(select(access_lists_saved.c.singleton))).first()
    if saved is None:
        return AccessLists(default_allowed, default_admins, "settings")
    rows = (await connection.execute(select(access_lists.c.email, access_lists.c.role))).all()
    return AccessLists(
        frozenset(row.email for row in rows if row.role == "operator"),
        frozenset(row.email for row in rows if row.role == "admin"),
        "database",
    )


async def save_access_lists(
    connection: AsyncConnection,
    allowed: tuple[str, ...],
    admins: tuple[str, ...],
    actor: str,
    at: datetime,
) -> None:
    await connection.execute(delete(access_lists))
    rows = [
        {"email": email, "role": role, "updated_by": actor, "updated_at": at}
        for role, emails in (("operator", allowed), ("admin", admins))
        for email in emails
    ]
    if rows:
        await connection.execute(insert(access_lists), rows)
    statement = pg_insert(access_lists_saved).values(singleton=True, saved_by=actor, saved_at=at)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=["singleton"], set_={"saved_by": actor, "saved_at": at}
        )
    )

# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Operations reads for the console: command counts, the provider-event log, access lists."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from sqlalchemy import desc, func, select

from walletflow.api.graphql.context import Info
from walletflow.db.schema_service import command_log, provider_events
from walletflow.service.access_lists import load_access_lists

MAX_WINDOW_S = 366 * 24 * 3600
MAX_PROVIDER_EVENTS = 200


@strawberry.type(description="Commands recorded in a recent window (the command log).")
class CommandStats:
    since: datetime
    posted: int
    failed: int


@strawberry.type(description="The first delivery of one provider fact, and how many came.")
class ProviderEventInfo:
    provider: str
    provider_reference: str
    event_type: str
    event_id: str
    status: str
    deliveries: int
    received_at: datetime


@strawberry.type(description="Who may sign in: from settings, or as saved by saveAccessLists.")
class AccessListsInfo:
    allowed_emails: list[str]
    admin_emails: list[str]
    source: str


@strawberry.type
class OperationsQuery:
    @strawberry.field(description="Completed and failed commands over the last `windowS` seconds.")
    async def command_stats(self, info: Info, window_s: int = 86_400) -> CommandStats:
        context = info.context
        context.require_staff_or_analyst()
        window_s = max(1, min(window_s, MAX_WINDOW_S))
        since = context.container.clock.now() - timedelta(seconds=window_s)
        c = command_log.c
        statement = select(
            func.count().filter(c.status == "completed"), func.count().filter(c.status == "failed")
        ).where(c.created_at >= since)
        async with context.container.engine.connect() as connection:
            posted, failed = (await connection.execute(statement)).one()
        return CommandStats(since=since, posted=int(posted), failed=int(failed))

    @strawberry.field(description="Provider webhook facts, newest first (bounded).")
    async def provider_events(self, info: Info, first: int = 50) -> list[ProviderEventInfo]:
        context = info.context
        context.require_staff_or_analyst()
        p = provider_events.c
        statement = (
            select(
                p.provider,
                p.provider_reference,
                p.event_type,
                p.event_id,
                p.response,
                p.deliveries,
                p.received_at,
            )
            .order_by(desc(p.id))
            .limit(max(1, min(first, MAX_PROVIDER_EVENTS)))
        )
        async with context.container.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            ProviderEventInfo(
                provider=row.provider,
                provider_reference=row.provider_reference,
                event_type=row.event_type,
                event_id=row.event_id,
                status=str(row.response.get("status", "")),
                deliveries=row.deliveries,
                received_at=row.received_at,
            )
            for row in rows
        ]

    @strawberry.field(description="Admins: the operator and admin allowlists in force.")
    async def access_lists(self, info: Info) -> AccessListsInfo:
        context = info.context
        context.require_admin()
        settings = context.container.settings
        async with context.container.engine.connect() as connection:
            lists = await load_access_lists(
                connection, settings.ops_allowed_emails, settings.ops_admin_emails
            )
        return AccessListsInfo(
            allowed_emails=sorted(lists.allowed_emails),
            admin_emails=sorted(lists.admin_emails),
            source=lists.source,
        )

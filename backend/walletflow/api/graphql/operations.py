# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Operations reads for the console: command counts, the provider-event log, access lists
(thin translations of `walletflow.views.commands` and `views.provider_events`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from walletflow.api.graphql.context import Info
from walletflow.service.access_lists import load_access_lists
from walletflow.views import commands as command_views
from walletflow.views import provider_events as provider_event_views


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
        container = context.container
        async with container.engine.connect() as connection:
            stats = await command_views.command_stats(
                connection, context.visibility, container.clock, window_s
            )
        return CommandStats(since=stats.since, posted=stats.posted, failed=stats.failed)

    @strawberry.field(description="Provider webhook facts, newest first (bounded).")
    async def provider_events(self, info: Info, first: int = 50) -> list[ProviderEventInfo]:
        context = info.context
        async with context.container.engine.connect() as connection:
            rows = await provider_event_views.list_provider_events(
                connection, context.visibility, first
            )
        return [
            ProviderEventInfo(
                provider=row.provider,
                provider_reference=row.provider_reference,
                event_type=row.event_type,
                event_id=row.event_id,
                status=row.status,
                deliveries=row.deliveries,
                received_at=row.received_at,
            )
            for row in rows
        ]

    @strawberry.field(description="Admins: the operator and admin allowlists in force.")
    async def access_lists(self, info: Info) -> AccessListsInfo:
        context = info.context
        context.visibility.require_admin()
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

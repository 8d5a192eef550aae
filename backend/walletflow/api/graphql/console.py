# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""The operator console's reads: global search, one transaction or payout by id (deep links),
failed commands by error code, the currencies that have wallets. Thin translations of
`walletflow.views` (search, holds, commands, wallets) under the one visibility rule."""

from __future__ import annotations

from datetime import datetime

import strawberry

from walletflow.api.graphql.context import Info
from walletflow.api.graphql.queries import hold_node, transaction_node
from walletflow.api.graphql.scalars import BigInt
from walletflow.api.graphql.types import Hold, Transaction
from walletflow.domain.errors import NotFound
from walletflow.views import commands as command_views
from walletflow.views import holds as hold_views
from walletflow.views import search as search_views
from walletflow.views import wallets as wallet_views

MAX_FAILED_COMMANDS = 200


@strawberry.type(description="One match of the console's global search.")
class SearchHit:
    kind: str = strawberry.field(description="merchant, transaction, payout or account")
    id: str
    label: str


@strawberry.type(description="Failed commands of one error code in a window.")
class FailureCount:
    error_code: str
    count: int
    last_at: datetime
    last_command: str


@strawberry.type(description="One failed command (the command log; no input is kept).")
class FailedCommand:
    command: str
    error_code: str
    actor: str
    idempotency_key: str
    merchant_id: str | None
    created_at: datetime


@strawberry.type
class ConsoleQuery:
    @strawberry.field(
        description="Global search: merchant id prefix, transaction id or reference, payout id "
        "prefix, provider reference, account address prefix (with a ':')."
    )
    async def search(self, info: Info, text: str, first: int = 10) -> list[SearchHit]:
        context = info.context
        container = context.container
        async with container.engine.connect() as conn:
            hits = await search_views.search(
                conn, container.ledger, context.visibility, text, first
            )
        return [SearchHit(kind=h.kind, id=h.id, label=h.label) for h in hits]

    @strawberry.field(description="One ledger transaction by id (NOT_FOUND when unknown).")
    async def transaction(self, info: Info, id: BigInt) -> Transaction:
        context = info.context
        tx = await context.container.ledger.get_transaction(int(id))
        if not search_views.touches(tx, context.visibility.account(None)):
            raise NotFound(f"no transaction {int(id)}", details={"txId": int(id)})
        return transaction_node(tx)

    @strawberry.field(description="One payout hold by payout id (NOT_FOUND when unknown).")
    async def hold(self, info: Info, payout_id: str) -> Hold:
        context = info.context
        async with context.container.engine.connect() as conn:
            row = await hold_views.get_hold(conn, context.visibility, payout_id)
        return hold_node(row)

    @strawberry.field(
        description="Failed commands over the last `windowS` seconds per error code, most "
        "frequent first."
    )
    async def failures_by_code(self, info: Info, window_s: int = 3600) -> list[FailureCount]:
        context = info.context
        container = context.container
        async with container.engine.connect() as conn:
            rows = await command_views.failures_by_code(
                conn, context.visibility, container.clock, window_s
            )
        return [
            FailureCount(
                error_code=r.error_code,
                count=r.count,
                last_at=r.last_at,
                last_command=r.last_command,
            )
            for r in rows
        ]

    @strawberry.field(
        description="The latest failed commands of the last `windowS` seconds (optionally of "
        "one error code), newest first."
    )
    async def failed_commands(
        self,
        info: Info,
        window_s: int = 3600,
        error_code: str | None = None,
        first: int = 50,
    ) -> list[FailedCommand]:
        context = info.context
        container = context.container
        async with container.engine.connect() as conn:
            rows = await command_views.failed_commands(
                conn,
                context.visibility,
                container.clock,
                window_s,
                error_code,
                min(first, MAX_FAILED_COMMANDS),
            )
        return [
            FailedCommand(
                command=r.command,
                error_code=r.error_code,
                actor=r.actor,
                idempotency_key=r.idempotency_key,
                merchant_id=r.merchant_id,
                created_at=r.created_at,
            )
            for r in rows
        ]

    @strawberry.field(description="The currencies that have at least one wallet.")
    async def wallet_currencies(self, info: Info) -> list[str]:
        context = info.context
        async with context.container.engine.connect() as conn:
            return await wallet_views.wallet_currencies(conn, context.visibility)

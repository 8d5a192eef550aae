# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Read-only queries: wallets, balances, movements, holds, transactions, postings, flags, outbox,
templates, registry metadata, `me`. Each resolver translates its arguments into a call of a
view (`walletflow.views`, which holds the SQL and applies who may see what: merchants only
their own merchant's data; analysts, operators and admins everything) and the view's rows into
GraphQL types. Lists are keyset-paginated connections (no OFFSET)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from walletflow.api.auth import api_keys
from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.mutations import GRAPHQL_TYPE_NAMES, key_info
from walletflow.api.graphql.pagination import Connection, connection
from walletflow.api.graphql.scalars import JSON, BigInt
from walletflow.api.graphql.types import (
    AccountMovement,
    ApiKeyInfo,
    AssetMovement,
    Balance,
    CommandField,
    CommandInfo,
    FeatureFlag,
    Hold,
    Me,
    Movements,
    OutboxStatus,
    Posting,
    TemplateInfo,
    Transaction,
    Wallet,
)
from walletflow.domain.principals import Principal
from walletflow.ledger.port import Transaction as LedgerTransaction
from walletflow.service.fields import FieldKind
from walletflow.service.registry import CommandSpec, may_run
from walletflow.views import balances as balance_views
from walletflow.views import flags as flag_views
from walletflow.views import holds as hold_views
from walletflow.views import movements as movement_views
from walletflow.views import outbox as outbox_views
from walletflow.views import postings as posting_views
from walletflow.views import templates as template_views
from walletflow.views import transactions as transaction_views
from walletflow.views import wallets as wallet_views
from walletflow.views.holds import HoldRow


def command_info(spec: CommandSpec, principal: Principal) -> CommandInfo:
    from walletflow.api.graphql.errors import camel

    return CommandInfo(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        group=spec.group.value,
        permission=spec.permission.value,
        template=spec.template,
        merchant_field=camel(spec.merchant_field) if spec.merchant_field else None,
        moves_money=spec.moves_money,
        allowed=may_run(spec, principal),
        fields=[
            CommandField(
                name=camel(field.name),
                kind=field.kind.value,
                label=field.label,
                required=field.required and field.default is None,
                default=field.default,
                choices=list(field.choices),
                currency_field=camel(field.currency_field)
                if field.kind is FieldKind.AMOUNT
                else None,
                allow_zero=field.allow_zero,
                help=field.help,
                graphql_type=GRAPHQL_TYPE_NAMES[field.kind],
            )
            for field in spec.fields
        ],
    )


def hold_node(row: HoldRow) -> Hold:
    return Hold(
        payout_id=row.payout_id,
        merchant_id=row.merchant_id,
        currency=row.currency,
        asset=row.asset,
        amount_minor=BigInt(row.amount_minor),
        provider=row.provider,
        state=row.state,
        destination=JSON(row.destination),
        provider_reference=row.provider_reference,
        reason=row.reason,
        created_at=row.created_at,
        state_changed_at=row.state_changed_at,
    )


def hold_key(hold: Hold) -> tuple[datetime, str]:
    return (hold.created_at, hold.payout_id)


def transaction_node(tx: LedgerTransaction) -> Transaction:
    return Transaction(
        id=BigInt(tx.id),
        reference=tx.reference,
        metadata=JSON(dict(tx.metadata)),
        effective_at=tx.effective_at,
        inserted_at=tx.inserted_at,
        reverted=tx.reverted,
        reverts_tx_id=None if tx.reverts_tx_id is None else BigInt(tx.reverts_tx_id),
        postings=[
            Posting(
                tx_id=BigInt(tx.id),
                ordinal=index,
                source=posting.source,
                destination=posting.destination,
                asset=posting.asset,
                amount_minor=BigInt(posting.amount_minor),
                effective_at=tx.effective_at,
            )
            for index, posting in enumerate(tx.postings)
        ],
    )


def posting_node(row: posting_views.PostingRow) -> Posting:
    return Posting(
        tx_id=BigInt(row.tx_id),
        ordinal=row.ordinal,
        source=row.source,
        destination=row.destination,
        asset=row.asset,
        amount_minor=BigInt(row.amount_minor),
        effective_at=row.effective_at,
    )


def outbox_status_node(pending: outbox_views.PendingEvents) -> OutboxStatus:
    return OutboxStatus(
        pending_count=pending.count,
        oldest_pending_age_s=pending.oldest_age_s,
        oldest_pending_at=pending.oldest_at,
    )


async def read_outbox_status(context: GraphQLContext) -> OutboxStatus:
    container = context.container
    async with container.engine.connect() as conn:
        pending = await outbox_views.pending_events(conn, context.visibility, container.clock)
    return outbox_status_node(pending)


@strawberry.type
class Query:
    @strawberry.field(description="Who is asking.")
    def me(self, info: Info) -> Me:
        context = info.context
        principal = context.principal
        return Me(
            role=principal.role.value,
            subject=principal.subject,
            merchant_id=principal.merchant_id,
            open_dev=context.state.authenticator.open_dev,
        )

    @strawberry.field(description="The command registry: every mutation's fields, for forms.")
    def commands(self, info: Info) -> list[CommandInfo]:
        principal = info.context.principal
        return [command_info(spec, principal) for spec in info.context.container.registry]

    @strawberry.field(description="Wallets, with live balances from the ledger.")
    async def wallets(
        self,
        info: Info,
        merchant_id: str | None = None,
        currency: str | None = None,
        first: int | None = None,
        after: str | None = None,
        merchant_prefix: str | None = None,
    ) -> Connection[Wallet]:
        context = info.context
        engine, visibility = context.container.engine, context.visibility
        async with engine.connect() as conn:
            page = await wallet_views.list_wallets(
                conn,
                visibility,
                merchant_id=merchant_id,
                currency=currency,
                merchant_prefix=merchant_prefix,
                first=first,
                after=after,
            )

        async def total() -> int:
            found = wallet_views.WalletFilter(merchant_id, currency, merchant_prefix)
            async with engine.connect() as conn:
                return await wallet_views.count_wallets(conn, visibility, found)

        return connection(
            page,
            lambda row: Wallet(
                merchant_id=row.merchant_id, currency=row.currency, created_at=row.created_at
            ),
            lambda w: (w.merchant_id, w.currency),
            total,
        )

    @strawberry.field(description="Ledger balances by accounts or prefix, now or at a point.")
    async def balances(
        self,
        info: Info,
        accounts: list[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> list[Balance]:
        context = info.context
        lines = await balance_views.balances(
            context.container.ledger,
            context.visibility,
            accounts=accounts,
            prefix=prefix,
            asset=asset,
            at=at,
            effective_at=effective_at,
        )
        return [
            Balance(
                account=line.account, asset=line.asset, balance_minor=BigInt(line.balance_minor)
            )
            for line in lines
        ]

    @strawberry.field(
        description="Net movement under an account prefix between two effective times "
        '(e.g. fees earned per currency: prefix "fees:").'
    )
    async def account_movements(
        self,
        info: Info,
        prefix: str,
        from_time: datetime,
        to_time: datetime,
        asset: str | None = None,
    ) -> Movements:
        context = info.context
        found = await movement_views.account_movements(
            context.container.ledger,
            context.visibility,
            prefix=prefix,
            from_time=from_time,
            to_time=to_time,
            asset=asset,
        )
        return Movements(
            prefix=found.prefix,
            from_time=found.from_time,
            to_time=found.to_time,
            by_asset=[
                AssetMovement(asset=line.asset, change_minor=BigInt(line.change_minor))
                for line in found.by_asset
            ],
            by_account=[
                AccountMovement(
                    account=line.account,
                    asset=line.asset,
                    opening_minor=BigInt(line.opening_minor),
                    closing_minor=BigInt(line.closing_minor),
                    change_minor=BigInt(line.change_minor),
                )
                for line in found.by_account
            ],
        )

    @strawberry.field(description="Payout holds, oldest first (newestFirst: newest first).")
    async def holds(
        self,
        info: Info,
        state: str | None = None,
        merchant_id: str | None = None,
        older_than_s: int | None = None,
        first: int | None = None,
        after: str | None = None,
        newest_first: bool = False,
    ) -> Connection[Hold]:
        context = info.context
        engine, visibility, clock = (
            context.container.engine,
            context.visibility,
            context.container.clock,
        )
        async with engine.connect() as conn:
            page = await hold_views.list_holds(
                conn,
                visibility,
                state=state,
                merchant_id=merchant_id,
                older_than_s=older_than_s,
                clock=clock,
                first=first,
                after=after,
                newest_first=newest_first,
            )

        async def total() -> int:
            found = hold_views.HoldFilter(state, merchant_id, older_than_s)
            async with engine.connect() as conn:
                return await hold_views.count_holds(conn, visibility, found, clock)

        return connection(page, hold_node, hold_key, total)

    @strawberry.field(
        description="Payouts waiting for a person (state manual_review), oldest first "
        "(newestFirst: newest first)."
    )
    async def manual_review_queue(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        newest_first: bool = False,
    ) -> Connection[Hold]:
        context = info.context
        engine, visibility = context.container.engine, context.visibility
        async with engine.connect() as conn:
            page = await hold_views.manual_review_queue(
                conn, visibility, first=first, after=after, newest_first=newest_first
            )

        async def total() -> int:
            async with engine.connect() as conn:
                return await hold_views.count_manual_review(conn, visibility)

        return connection(page, hold_node, hold_key, total)

    @strawberry.field(description="Ledger transactions, newest first.")
    async def transactions(
        self,
        info: Info,
        account: str | None = None,
        asset: str | None = None,
        reference: str | None = None,
        from_time: datetime | None = None,
        to_time: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Transaction]:
        context = info.context
        page = await transaction_views.list_transactions(
            context.container.ledger,
            context.visibility,
            account=account,
            asset=asset,
            reference=reference,
            from_time=from_time,
            to_time=to_time,
            first=first,
            after=after,
        )
        container, visibility = context.container, context.visibility

        async def total() -> int | None:
            found = posting_views.PostingFilter(account, asset, reference, from_time, to_time)
            async with container.engine.connect() as conn:
                return await posting_views.count_transactions(
                    conn, visibility, container.settings.ledger_backend, found
                )

        return connection(page, transaction_node, lambda t: (int(t.id),), total)

    @strawberry.field(description="Postings, newest transaction first.")
    async def postings(
        self,
        info: Info,
        account: str | None = None,
        asset: str | None = None,
        reference: str | None = None,
        from_time: datetime | None = None,
        to_time: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Posting]:
        context = info.context
        container = context.container
        async with container.engine.connect() as conn:
            page = await posting_views.list_postings(
                conn,
                context.visibility,
                container.settings.ledger_backend,
                account=account,
                asset=asset,
                reference=reference,
                from_time=from_time,
                to_time=to_time,
                first=first,
                after=after,
            )
        visibility = context.visibility

        async def total() -> int:
            found = posting_views.PostingFilter(account, asset, reference, from_time, to_time)
            async with container.engine.connect() as conn:
                return await posting_views.count_postings(
                    conn, visibility, container.settings.ledger_backend, found
                )

        return connection(page, posting_node, lambda n: (int(n.tx_id), n.ordinal), total)

    @strawberry.field(description="Feature flags (core_wallet_enabled per scope).")
    async def feature_flags(self, info: Info) -> list[FeatureFlag]:
        context = info.context
        async with context.container.engine.connect() as conn:
            rows = await flag_views.list_flags(conn, context.visibility)
        return [
            FeatureFlag(
                scope_type=row.scope_type,
                scope_value=row.scope_value,
                enabled=row.enabled,
                updated_by=row.updated_by,
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    @strawberry.field(description="Events written but not yet published by the outbox relay.")
    async def outbox_status(self, info: Info) -> OutboxStatus:
        return await read_outbox_status(info.context)

    @strawberry.field(description="Numscript templates: catalog hash and the loaded one.")
    async def templates(self, info: Info) -> list[TemplateInfo]:
        context = info.context
        catalog = context.container.templates
        async with context.container.engine.connect() as conn:
            found = await template_views.template_status(conn, context.visibility, catalog)
        return [
            TemplateInfo(
                name=line.name,
                sha256=line.sha256,
                loaded=line.loaded,
                loaded_sha256=line.loaded_sha256,
                loaded_at=line.loaded_at,
            )
            for line in found
        ]

    @strawberry.field(description="Admins: API keys (secrets are never shown again).")
    async def api_keys(self, info: Info) -> list[ApiKeyInfo]:
        context = info.context
        context.visibility.require_admin()
        async with context.container.engine.connect() as conn:
            keys = await api_keys.list_api_keys(conn)
        return [key_info(key) for key in keys]

# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Read-only queries: wallets, balances, movements, holds, transactions, postings, flags, outbox,
templates, registry metadata, `me`. Merchants see only their own merchant's data; analysts,
operators and admins see everything. Lists are keyset-paginated connections (no OFFSET)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy import Select, and_, func, or_, select, tuple_

from walletflow.api.auth import api_keys
from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.mutations import GRAPHQL_TYPE_NAMES, key_info
from walletflow.api.graphql.pagination import Connection, connection, decode_cursor, page_size
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
from walletflow.db.schema_ledger import ledger_postings, ledger_transactions
from walletflow.db.schema_service import feature_flags, holds, loaded_templates, outbox, wallets
from walletflow.domain.errors import Forbidden, ValidationError
from walletflow.domain.holds import HoldState
from walletflow.domain.principals import Principal, Role
from walletflow.ledger.port import Transaction as LedgerTransaction
from walletflow.ledger.port import TransactionFilter
from walletflow.service.fields import FieldKind
from walletflow.service.registry import CommandSpec, Permission

MAX_FLAGS = 1000
MAX_BALANCE_LINES = 1000
MAX_OLDER_THAN_S = 10 * 365 * 24 * 3600


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def merchant_prefix(merchant_id: str) -> str:
    return f"merchants:{merchant_id}:"


def scoped_account(context: GraphQLContext, account: str | None) -> str | None:
    """A merchant's account filter must stay under its own `merchants:<id>:` prefix."""
    own = context.principal.merchant_id
    if context.principal.role is not Role.MERCHANT:
        return account
    assert own is not None
    prefix = merchant_prefix(own)
    if account is None:
        return prefix
    if not account.startswith(prefix):
        raise Forbidden("merchants see only their own accounts", details={"prefix": prefix})
    return account


def may_run(spec: CommandSpec, principal: Principal) -> bool:
    role = principal.role
    if role is Role.ANALYST:
        return False
    if spec.permission is Permission.ADMIN:
        return role in {Role.ADMIN, Role.SYSTEM}
    if spec.permission is Permission.OPERATOR:
        return principal.is_staff
    return principal.is_staff or role is Role.MERCHANT


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


def hold_node(row: Any) -> Hold:
    return Hold(
        payout_id=row.payout_id,
        merchant_id=row.merchant_id,
        currency=row.currency,
        asset=row.asset,
        amount_minor=BigInt(row.amount_minor),
        provider=row.provider,
        state=row.state,
        destination=row.destination,
        provider_reference=row.provider_reference,
        reason=row.reason,
        created_at=row.created_at,
        state_changed_at=row.state_changed_at,
    )


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


async def hold_page(
    context: GraphQLContext,
    statement: Select[Any],
    first: int | None,
    after: str | None,
) -> Connection[Hold]:
    size = page_size(first)
    position = decode_cursor(after, 2)
    if position is not None:
        statement = statement.where(
            tuple_(holds.c.created_at, holds.c.payout_id)
            > tuple_(datetime.fromisoformat(str(position[0])), str(position[1]))
        )
    statement = statement.order_by(holds.c.created_at, holds.c.payout_id).limit(size + 1)
    async with context.container.engine.connect() as conn:
        rows = (await conn.execute(statement)).all()
    return connection([hold_node(row) for row in rows], size, lambda h: (h.created_at, h.payout_id))


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
    ) -> Connection[Wallet]:
        context = info.context
        size = page_size(first)
        merchant = context.merchant_scope(merchant_id)
        statement = select(wallets.c.merchant_id, wallets.c.currency, wallets.c.created_at)
        if merchant is not None:
            statement = statement.where(wallets.c.merchant_id == merchant)
        if currency is not None:
            statement = statement.where(wallets.c.currency == currency.upper())
        position = decode_cursor(after, 2)
        if position is not None:
            statement = statement.where(
                tuple_(wallets.c.merchant_id, wallets.c.currency)
                > tuple_(str(position[0]), str(position[1]))
            )
        statement = statement.order_by(wallets.c.merchant_id, wallets.c.currency).limit(size + 1)
        async with context.container.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        nodes = [
            Wallet(merchant_id=row.merchant_id, currency=row.currency, created_at=row.created_at)
            for row in rows
        ]
        return connection(nodes, size, lambda w: (w.merchant_id, w.currency))

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
        if context.principal.role is Role.MERCHANT:
            prefix = scoped_account(context, prefix) if accounts is None else prefix
            for address in [*(accounts or []), *([prefix] if prefix else [])]:
                scoped_account(context, address)
        found = await context.container.ledger.balances(
            accounts=accounts, prefix=prefix, asset=asset, at=at, effective_at=effective_at
        )
        lines = [
            Balance(account=account, asset=line_asset, balance_minor=BigInt(minor))
            for account, assets in sorted(found.items())
            for line_asset, minor in sorted(assets.items())
        ]
        if len(lines) > MAX_BALANCE_LINES:
            raise ValidationError(
                f"more than {MAX_BALANCE_LINES} balances; narrow the prefix or asset",
                field_errors={"prefix": "too broad"},
            )
        return lines

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
        scoped_account(context, prefix)
        if from_time >= to_time:
            raise ValidationError("fromTime must be before toTime", field_errors={"toTime": "<="})
        ledger = context.container.ledger
        opening = await ledger.balances(prefix=prefix, asset=asset, effective_at=from_time)
        closing = await ledger.balances(prefix=prefix, asset=asset, effective_at=to_time)
        by_account: list[AccountMovement] = []
        totals: dict[str, int] = {}
        for account in sorted(set(opening) | set(closing)):
            assets = set(opening.get(account, {})) | set(closing.get(account, {}))
            for line_asset in sorted(assets):
                before = opening.get(account, {}).get(line_asset, 0)
                after = closing.get(account, {}).get(line_asset, 0)
                by_account.append(
                    AccountMovement(
                        account=account,
                        asset=line_asset,
                        opening_minor=BigInt(before),
                        closing_minor=BigInt(after),
                        change_minor=BigInt(after - before),
                    )
                )
                totals[line_asset] = totals.get(line_asset, 0) + after - before
        if len(by_account) > MAX_BALANCE_LINES:
            raise ValidationError(
                "too many accounts; narrow the prefix", field_errors={"prefix": "too broad"}
            )
        return Movements(
            prefix=prefix,
            from_time=from_time,
            to_time=to_time,
            by_asset=[
                AssetMovement(asset=line_asset, change_minor=BigInt(change))
                for line_asset, change in sorted(totals.items())
            ],
            by_account=by_account,
        )

    @strawberry.field(description="Payout holds, oldest first.")
    async def holds(
        self,
        info: Info,
        state: str | None = None,
        merchant_id: str | None = None,
        older_than_s: int | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Hold]:
        context = info.context
        statement = select(holds)
        merchant = context.merchant_scope(merchant_id)
        if merchant is not None:
            statement = statement.where(holds.c.merchant_id == merchant)
        if state is not None:
            if state not in {s.value for s in HoldState}:
                raise ValidationError("unknown hold state", field_errors={"state": "unknown"})
            statement = statement.where(holds.c.state == state)
        if older_than_s is not None:
            if not 0 <= older_than_s <= MAX_OLDER_THAN_S:
                raise ValidationError(
                    "olderThanS out of range", field_errors={"olderThanS": "range"}
                )
            cutoff = context.container.clock.now() - timedelta(seconds=older_than_s)
            statement = statement.where(holds.c.created_at < cutoff)
        return await hold_page(context, statement, first, after)

    @strawberry.field(description="Payouts waiting for a person (state manual_review).")
    async def manual_review_queue(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Hold]:
        context = info.context
        context.require_staff_or_analyst()
        statement = select(holds).where(holds.c.state == HoldState.MANUAL_REVIEW.value)
        return await hold_page(context, statement, first, after)

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
        size = page_size(first)
        tx_filter = TransactionFilter(
            account=scoped_account(context, account),
            asset=asset,
            reference=reference,
            start_time=from_time,
            end_time=to_time,
        )
        page = await context.container.ledger.list_transactions(tx_filter, after, size)
        nodes = [transaction_node(tx) for tx in page.items]
        return connection(nodes, size, lambda t: (int(t.id),), next_cursor=page.next_cursor)

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
        size = page_size(first)
        account = scoped_account(context, account)
        p = ledger_postings.c
        statement = select(
            p.tx_id, p.ordinal, p.source, p.destination, p.asset, p.amount, p.effective_at
        )
        if account is not None:
            pattern = _like_prefix(account)
            statement = statement.where(
                or_(p.source.like(pattern, escape="\\"), p.destination.like(pattern, escape="\\"))
            )
        if asset is not None:
            statement = statement.where(p.asset == asset)
        if reference is not None:
            by_reference = select(ledger_transactions.c.id).where(
                ledger_transactions.c.reference == reference
            )
            statement = statement.where(p.tx_id.in_(by_reference))
        if from_time is not None:
            statement = statement.where(p.effective_at >= from_time)
        if to_time is not None:
            statement = statement.where(p.effective_at < to_time)
        position = decode_cursor(after, 2)
        if position is not None:
            tx_id, ordinal = int(position[0]), int(position[1])
            statement = statement.where(
                or_(p.tx_id < tx_id, and_(p.tx_id == tx_id, p.ordinal > ordinal))
            )
        statement = statement.order_by(p.tx_id.desc(), p.ordinal).limit(size + 1)
        async with context.container.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
        nodes = [
            Posting(
                tx_id=BigInt(row.tx_id),
                ordinal=row.ordinal,
                source=row.source,
                destination=row.destination,
                asset=row.asset,
                amount_minor=BigInt(int(row.amount)),
                effective_at=row.effective_at,
            )
            for row in rows
        ]
        return connection(nodes, size, lambda n: (int(n.tx_id), n.ordinal))

    @strawberry.field(description="Feature flags (core_wallet_enabled per scope).")
    async def feature_flags(self, info: Info) -> list[FeatureFlag]:
        context = info.context
        context.require_staff_or_analyst()
        f = feature_flags.c
        statement = (
            select(f.scope_type, f.scope_value, f.enabled, f.updated_by, f.updated_at)
            .order_by(f.scope_type, f.scope_value)
            .limit(MAX_FLAGS)
        )
        async with context.container.engine.connect() as conn:
            rows = (await conn.execute(statement)).all()
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
        context = info.context
        context.require_staff_or_analyst()
        return await read_outbox_status(context)

    @strawberry.field(description="Numscript templates: catalog hash and the loaded one.")
    async def templates(self, info: Info) -> list[TemplateInfo]:
        context = info.context
        context.require_staff_or_analyst()
        t = loaded_templates.c
        async with context.container.engine.connect() as conn:
            rows = {
                row.name: row for row in await conn.execute(select(t.name, t.sha256, t.loaded_at))
            }
        result = []
        for name, sha256 in context.container.templates.hashes().items():
            row = rows.get(name)
            result.append(
                TemplateInfo(
                    name=name,
                    sha256=sha256,
                    loaded=row is not None and row.sha256 == sha256,
                    loaded_sha256=None if row is None else row.sha256,
                    loaded_at=None if row is None else row.loaded_at,
                )
            )
        return result

    @strawberry.field(description="Admins: API keys (secrets are never shown again).")
    async def api_keys(self, info: Info) -> list[ApiKeyInfo]:
        context = info.context
        context.require_admin()
        async with context.container.engine.connect() as conn:
            keys = await api_keys.list_api_keys(conn)
        return [key_info(key) for key in keys]


async def read_outbox_status(context: GraphQLContext) -> OutboxStatus:
    statement = select(func.count(), func.min(outbox.c.created_at)).where(
        outbox.c.published_at.is_(None)
    )
    async with context.container.engine.connect() as conn:
        count, oldest = (await conn.execute(statement)).one()
    age = None
    if oldest is not None:
        age = max(0.0, (context.container.clock.now() - oldest).total_seconds())
    return OutboxStatus(
        pending_count=int(count), oldest_pending_age_s=age, oldest_pending_at=oldest
    )

# mypy: disable-error-code="untyped-decorator"
# (strawberry.field(description=...) is typed as returning Any; the resolvers are typed.)
"""Reporting reads: trial balance, ALM, the four gates, statements, COA and GL mappings, drift.
Thin translations of `walletflow.views.reports` (which the CLI reads too): staff and analysts
only, except statements, which merchants read for their own wallets; the ledger reports need
the built-in ledger (UNSUPPORTED_BY_LEDGER_BACKEND otherwise)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.pagination import Connection, connection
from walletflow.api.graphql.scalars import JSON, BigInt
from walletflow.api.graphql.types import format_minor
from walletflow.reporting import gates, statements
from walletflow.views import reports
from walletflow.views.pages import Slice, page_size


@strawberry.type
class TrialBalanceLine:
    asset: str
    code: str
    name: str
    account_class: str | None
    normal_balance: str | None
    accounts: int
    debit_minor: BigInt
    credit_minor: BigInt
    balance_minor: BigInt
    abnormal: bool


@strawberry.type
class AssetTotal:
    asset: str
    debit_minor: BigInt
    credit_minor: BigInt
    net_minor: BigInt
    foots: bool


@strawberry.type
class TrialBalance:
    foots: bool
    lines: list[TrialBalanceLine]
    totals: list[AssetTotal]


@strawberry.type
class AlmLine:
    asset: str
    currency: str
    account_class: str
    code: str
    name: str
    balance_minor: BigInt


@strawberry.type
class AlmSummary:
    asset: str
    currency: str
    assets_minor: BigInt
    liabilities_minor: BigInt
    net_position_minor: BigInt
    by_class_minor: JSON
    unmapped_minor: BigInt


@strawberry.type
class Alm:
    summaries: list[AlmSummary]
    lines: list[AlmLine]


@strawberry.type(description="One gate: green (ok) or red, with its detail.")
class Gate:
    name: str
    ok: bool
    detail: JSON
    checked_at: datetime


@strawberry.type
class StatementLine:
    seq: BigInt
    merchant_id: str
    currency: str
    wallet_account: str
    address: str
    asset: str
    tx_id: BigInt
    ordinal: int
    amount_minor: BigInt
    balance_before_minor: BigInt
    balance_after_minor: BigInt
    effective_at: datetime
    inserted_at: datetime
    reference: str | None
    description: str

    @strawberry.field
    def formatted(self) -> str:
        return format_minor(int(self.amount_minor), self.asset)


@strawberry.type
class CoaAccount:
    code: str
    name: str
    kind: str
    account_class: str
    normal_balance: str
    address_pattern: str
    may_go_negative: bool


@strawberry.type
class GlMapping:
    template: str
    leg: str
    source_kind: str
    destination_kind: str
    debit_code: str
    credit_code: str
    description: str


@strawberry.type
class DriftItem:
    check: str
    subject: str
    detail: str


def gate_node(result: gates.GateResult) -> Gate:
    return Gate(
        name=result.name, ok=result.ok, detail=JSON(result.detail), checked_at=result.checked_at
    )


def statement_line_node(line: statements.StatementLine) -> StatementLine:
    return StatementLine(
        seq=BigInt(line.seq),
        merchant_id=line.merchant_id,
        currency=line.currency,
        wallet_account=line.wallet_account,
        address=line.address,
        asset=line.asset,
        tx_id=BigInt(line.tx_id),
        ordinal=line.ordinal,
        amount_minor=BigInt(line.amount_minor),
        balance_before_minor=BigInt(line.balance_before_minor),
        balance_after_minor=BigInt(line.balance_after_minor),
        effective_at=line.effective_at,
        inserted_at=line.inserted_at,
        reference=line.reference,
        description=line.description,
    )


async def read_gates(context: GraphQLContext, *, refresh_statements: bool) -> list[Gate]:
    container = context.container
    async with container.engine.begin() as conn:
        results = await reports.run_gates(
            conn,
            context.visibility,
            container.settings.ledger_backend,
            container.templates,
            refresh_statements=refresh_statements,
            now=container.clock.now(),
        )
    return [gate_node(result) for result in results]


@strawberry.type
class ReportingQuery:
    @strawberry.field(description="Trial balance per asset (all assets, or one: NGN/2).")
    async def trial_balance(self, info: Info, asset: str | None = None) -> TrialBalance:
        context = info.context
        backend = context.container.settings.ledger_backend
        async with context.container.engine.connect() as conn:
            report = await reports.trial_balance(conn, context.visibility, backend, asset)
        return TrialBalance(
            foots=report.foots,
            lines=[
                TrialBalanceLine(
                    asset=line.asset,
                    code=line.code,
                    name=line.name,
                    account_class=line.account_class,
                    normal_balance=line.normal_balance,
                    accounts=line.accounts,
                    debit_minor=BigInt(line.debit_minor),
                    credit_minor=BigInt(line.credit_minor),
                    balance_minor=BigInt(line.balance_minor),
                    abnormal=line.abnormal,
                )
                for line in report.lines
            ],
            totals=[
                AssetTotal(
                    asset=total.asset,
                    debit_minor=BigInt(total.debit_minor),
                    credit_minor=BigInt(total.credit_minor),
                    net_minor=BigInt(total.net_minor),
                    foots=total.foots,
                )
                for total in report.totals
            ],
        )

    @strawberry.field(description="Assets vs liabilities by class and currency.")
    async def alm(self, info: Info) -> Alm:
        context = info.context
        backend = context.container.settings.ledger_backend
        async with context.container.engine.connect() as conn:
            view = await reports.alm(conn, context.visibility, backend)
        return Alm(
            summaries=[
                AlmSummary(
                    asset=s.asset,
                    currency=s.currency,
                    assets_minor=BigInt(s.assets_minor),
                    liabilities_minor=BigInt(s.liabilities_minor),
                    net_position_minor=BigInt(s.net_position_minor),
                    by_class_minor=JSON({k: str(v) for k, v in s.by_class_minor.items()}),
                    unmapped_minor=BigInt(s.unmapped_minor),
                )
                for s in view.summaries
            ],
            lines=[
                AlmLine(
                    asset=line.asset,
                    currency=line.currency,
                    account_class=line.account_class,
                    code=line.code,
                    name=line.name,
                    balance_minor=BigInt(line.balance_minor),
                )
                for line in view.lines
            ],
        )

    @strawberry.field(description="The four gates: books foot, holds, statements, COA/templates.")
    async def gates(self, info: Info, refresh_statements: bool = True) -> list[Gate]:
        return await read_gates(info.context, refresh_statements=refresh_statements)

    @strawberry.field(description="A wallet's statement lines, newest first.")
    async def statements(
        self,
        info: Info,
        merchant_id: str,
        currency: str,
        wallet_account: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[StatementLine]:
        context = info.context
        backend = context.container.settings.ledger_backend
        size = page_size(first)
        async with context.container.engine.connect() as conn:
            page = await reports.statement_lines(
                conn,
                context.visibility,
                backend,
                merchant_id,
                currency.upper(),
                after,
                size,
                wallet_account=wallet_account,
            )
        engine, visibility = context.container.engine, context.visibility

        async def total() -> int:
            async with engine.connect() as conn:
                return await reports.count_statement_lines(
                    conn,
                    visibility,
                    backend,
                    merchant_id,
                    currency.upper(),
                    wallet_account=wallet_account,
                )

        return connection(
            Slice(page.lines, size, page.next_cursor),
            statement_line_node,
            lambda n: (int(n.seq),),
            total,
        )

    @strawberry.field(description="The loaded chart of accounts.")
    async def coa(self, info: Info) -> list[CoaAccount]:
        context = info.context
        async with context.container.engine.connect() as conn:
            accounts = await reports.chart_of_accounts(conn, context.visibility)
        return [
            CoaAccount(
                code=a.code,
                name=a.name,
                kind=a.kind,
                account_class=a.account_class.value,
                normal_balance=a.normal_balance.value,
                address_pattern=a.address_pattern,
                may_go_negative=a.may_go_negative,
            )
            for a in accounts
        ]

    @strawberry.field(description="The loaded GL mappings (optionally of one template).")
    async def gl_mappings(self, info: Info, template: str | None = None) -> list[GlMapping]:
        context = info.context
        async with context.container.engine.connect() as conn:
            mappings = await reports.gl_mappings(conn, context.visibility, template)
        return [
            GlMapping(
                template=m.template,
                leg=m.leg,
                source_kind=m.source_kind,
                destination_kind=m.destination_kind,
                debit_code=m.debit_code,
                credit_code=m.credit_code,
                description=m.description,
            )
            for m in mappings
        ]

    @strawberry.field(description="Drift between the seeds, the loaded COA/GL and templates.")
    async def coa_drift(self, info: Info) -> list[DriftItem]:
        context = info.context
        async with context.container.engine.connect() as conn:
            items = await reports.coa_drift(conn, context.visibility, context.container.templates)
        return [DriftItem(check=i.check, subject=i.subject, detail=i.detail) for i in items]

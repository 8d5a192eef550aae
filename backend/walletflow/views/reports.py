"""Reporting reads, as the API and the CLI ask for them: the trial balance, ALM, the four
gates, statements (`walletflow.reporting`) and the loaded chart of accounts, GL mappings and
drift (`walletflow.coa`), each behind the visibility rule and, where it reads the built-in
ledger's tables, the ledger-backend rule.

Staff and analysts read everything; merchants only their own statements.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.coa import drift, store
from walletflow.coa.model import CoaAccount, GlMapping
from walletflow.config import LedgerBackend
from walletflow.domain.errors import ValidationError
from walletflow.ledger.templates import TemplateCatalog
from walletflow.reporting import balances, gates, statements
from walletflow.views.ledger_backend import require_builtin_ledger
from walletflow.views.visibility import Visibility

MAX_TEMPLATE_NAME = 64


async def trial_balance(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    asset: str | None = None,
) -> balances.TrialBalance:
    """The trial balance per asset (all assets, or one: `NGN/2`)."""
    visibility.require_everything()
    require_builtin_ledger(backend, "the trial balance")
    return await balances.trial_balance(connection, asset)


async def alm(
    connection: AsyncConnection, visibility: Visibility, backend: LedgerBackend
) -> balances.AlmView:
    """Assets vs liabilities by class and currency."""
    visibility.require_everything()
    require_builtin_ledger(backend, "the ALM view")
    return await balances.alm_view(connection)


async def run_gates(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    templates: TemplateCatalog,
    *,
    refresh_statements: bool = True,
    now: datetime | None = None,
) -> list[gates.GateResult]:
    """The four gates; `connection` must be in a transaction the statements refresh may
    write in (`engine.begin()`)."""
    visibility.require_everything()
    require_builtin_ledger(backend, "the gates")
    return await gates.run_gates(
        connection, templates, refresh_statements=refresh_statements, now=now
    )


async def statement_lines(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    merchant_id: str,
    currency: str,
    cursor: str | None = None,
    limit: int = statements.DEFAULT_PAGE_SIZE,
    *,
    wallet_account: str | None = None,
) -> statements.StatementPage:
    """A wallet's statement lines, newest first (see `list_statement_lines`)."""
    merchant = visibility.merchant(merchant_id)
    assert merchant is not None
    require_builtin_ledger(backend, "statements")
    return await statements.list_statement_lines(
        connection, merchant, currency, cursor, limit, wallet_account=wallet_account
    )


async def chart_of_accounts(
    connection: AsyncConnection, visibility: Visibility
) -> list[CoaAccount]:
    visibility.require_everything()
    return await store.list_coa_accounts(connection)


async def gl_mappings(
    connection: AsyncConnection, visibility: Visibility, template: str | None = None
) -> list[GlMapping]:
    visibility.require_everything()
    if template is not None and len(template) > MAX_TEMPLATE_NAME:
        raise ValidationError(
            "template name too long", field_errors={"template": f"<= {MAX_TEMPLATE_NAME}"}
        )
    return await store.list_gl_mappings(connection, template)


async def coa_drift(
    connection: AsyncConnection, visibility: Visibility, templates: TemplateCatalog
) -> list[drift.DriftItem]:
    """Drift between the seeds, the loaded COA/GL mappings and the templates (no ledger
    tables: it answers under any backend)."""
    visibility.require_everything()
    return await drift.coa_drift(connection, templates)


async def count_statement_lines(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    merchant_id: str,
    currency: str,
    *,
    wallet_account: str | None = None,
) -> int:
    """How many lines `statement_lines` pages through for the same wallet (and account)."""
    merchant = visibility.merchant(merchant_id)
    assert merchant is not None
    require_builtin_ledger(backend, "statements")
    statement = text(
        "SELECT count(*) FROM statement_lines WHERE merchant_id = :merchant AND currency = :ccy "
        "AND (CAST(:account AS text) IS NULL OR wallet_account = CAST(:account AS text))"
    )
    params = {"merchant": merchant, "ccy": currency, "account": wallet_account}
    return int((await connection.execute(statement, params)).scalar_one())

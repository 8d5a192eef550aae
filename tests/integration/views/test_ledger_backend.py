"""Views over the built-in ledger's tables refuse another ledger backend with a stable code;
views through the ledger port or over walletflow's own tables do not care."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.bootstrap import Container, build_container
from walletflow.config import LedgerBackend, load_settings
from walletflow.db.sql import LIKE_ESCAPE, like_prefix
from walletflow.domain.errors import UnsupportedByLedgerBackend
from walletflow.domain.principals import SYSTEM_CLI
from walletflow.views import postings, reports, wallets
from walletflow.views.visibility import EVERYTHING

FORMANCE = LedgerBackend.FORMANCE


def builtin_ledger_reads(container: Container) -> dict[str, Callable[[Any], Awaitable[Any]]]:
    catalog = container.templates
    return {
        "postings": lambda c: postings.list_postings(c, EVERYTHING, FORMANCE),
        "the trial balance": lambda c: reports.trial_balance(c, EVERYTHING, FORMANCE),
        "the ALM view": lambda c: reports.alm(c, EVERYTHING, FORMANCE),
        "the gates": lambda c: reports.run_gates(c, EVERYTHING, FORMANCE, catalog),
        "statements": lambda c: reports.statement_lines(c, EVERYTHING, FORMANCE, "m1", "NGN"),
    }


async def test_builtin_ledger_views_refuse_formance_with_a_stable_code(
    container: Container,
) -> None:
    for read, view in builtin_ledger_reads(container).items():
        async with container.engine.begin() as connection:
            with pytest.raises(UnsupportedByLedgerBackend) as refused:
                await view(connection)
        assert refused.value.code == "UNSUPPORTED_BY_LEDGER_BACKEND"
        assert refused.value.details == {"ledgerBackend": "formance", "read": read}


async def test_views_over_walletflows_own_tables_answer_under_formance(
    engine: AsyncEngine,
) -> None:
    # Nothing listens at this Formance URL: these views must not need the ledger at all.
    settings = load_settings({"LEDGER_BACKEND": "formance", "FORMANCE_URL": "http://127.0.0.1:9"})
    formance = build_container(settings, engine)
    for command in ("rebuildCoa", "rebuildTemplates"):
        await formance.bus.execute(command, {}, SYSTEM_CLI, f"views-formance-{command}")
    async with engine.connect() as connection:
        assert (await wallets.list_wallets(connection, EVERYTHING)).rows == []
        assert await reports.coa_drift(connection, EVERYTHING, formance.templates) == []
        assert await reports.chart_of_accounts(connection, EVERYTHING)


async def test_like_prefixes_are_literal_in_postgresql(engine: AsyncEngine) -> None:
    cases = {
        ("merchants:m_1:", "merchants:m_1:NGN"): True,
        ("merchants:m_1:", "merchants:mx1:NGN"): False,
        ("100%", "100%:x"): True,
        ("100%", "1000"): False,
        ("a\\b", "a\\b:c"): True,
        ("a\\b", "ab"): False,
    }
    for (prefix, value), expected in cases.items():
        pattern = like_prefix(prefix)
        async with engine.connect() as connection:
            matched = await connection.scalar(
                select(literal(value).like(literal(pattern), escape=LIKE_ESCAPE))
            )
        assert matched is expected, (prefix, value)

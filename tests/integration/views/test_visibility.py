"""Every view applies the one visibility rule on real data: a merchant sees its own merchant's
wallets, holds, postings, transactions, balances and statements and nothing else; staff and
analysts see everything; cross-merchant views are refused to merchants. Merchant ids with a
LIKE wildcard (`m_1`) match only themselves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.service_fixtures import Run
from walletflow.bootstrap import Container
from walletflow.config import LedgerBackend
from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import SYSTEM_CLI, Principal, Role
from walletflow.service.clock import ManualClock
from walletflow.views import (
    balances,
    commands,
    flags,
    holds,
    movements,
    outbox,
    postings,
    provider_events,
    reports,
    templates,
    transactions,
    wallets,
)
from walletflow.views.visibility import Visibility

M1 = Visibility(Principal(Role.MERCHANT, "apikey:m1", "m1"))
UNDERSCORE = Visibility(Principal(Role.MERCHANT, "apikey:m_1", "m_1"))
ANALYST = Visibility(Principal(Role.ANALYST, "apikey:analyst"))
OPERATOR = Visibility(Principal(Role.OPERATOR, "op@example.com"))
MERCHANTS = ("m1", "m2", "m_1", "mx1")
POSTGRES = LedgerBackend.POSTGRES
DEST = {"bank": "058", "account": "0123456789"}


@pytest.fixture
async def books(run: Run, clock: ManualClock) -> None:
    """Each merchant: an NGN wallet with a pay-in and one reserved payout; m2's payout goes to
    manual review."""
    for merchant in MERCHANTS:
        await run("createWallet", merchant_id=merchant, currency="NGN")
        await run(
            "postPayin",
            merchant_id=merchant,
            currency="NGN",
            amount="100.00",
            fee="1.00",
            provider="sandbox",
            provider_reference=f"pi-{merchant}",
        )
        await run(
            "reservePayout",
            merchant_id=merchant,
            currency="NGN",
            amount="10.00",
            provider="sandbox",
            destination=DEST,
            payout_id=f"po-{merchant}",
        )
    await run("markPayoutManualReview", payout_id="po-m2", reason="provider timed out")
    clock.advance(timedelta(minutes=1))


def merchants_of(addresses: list[str]) -> set[str]:
    return {address.split(":")[1] for address in addresses if address.startswith("merchants:")}


async def test_wallets_and_holds_of_a_merchant_are_its_own(
    books: None, container: Container
) -> None:
    async with container.engine.connect() as connection:
        own = await wallets.list_wallets(connection, M1)
        mine = await wallets.list_wallets(connection, UNDERSCORE)
        everyone = await wallets.list_wallets(connection, ANALYST)
        chosen = await wallets.list_wallets(connection, OPERATOR, merchant_id="m2")
        own_holds = await holds.list_holds(connection, M1)
        all_holds = await holds.list_holds(connection, ANALYST)
        with pytest.raises(Forbidden):
            await wallets.list_wallets(connection, M1, merchant_id="m2")
        with pytest.raises(Forbidden):
            await holds.list_holds(connection, M1, merchant_id="m2")
    assert [w.merchant_id for w in own.rows] == ["m1"]
    assert [w.merchant_id for w in mine.rows] == ["m_1"]
    assert sorted(w.merchant_id for w in everyone.rows) == sorted(MERCHANTS)
    assert [w.merchant_id for w in chosen.rows] == ["m2"]
    assert [h.payout_id for h in own_holds.rows] == ["po-m1"]
    assert sorted(h.payout_id for h in all_holds.rows) == sorted(f"po-{m}" for m in MERCHANTS)


async def test_postings_transactions_and_balances_of_a_merchant_are_its_own(
    books: None, container: Container
) -> None:
    ledger = container.ledger
    async with container.engine.connect() as connection:
        own = await postings.list_postings(connection, UNDERSCORE, POSTGRES, first=200)
        everyone = await postings.list_postings(connection, ANALYST, POSTGRES, first=200)
        by_prefix = await postings.list_postings(
            connection, OPERATOR, POSTGRES, account="merchants:m_1:", first=200
        )
    txs = await transactions.list_transactions(ledger, UNDERSCORE, first=200)
    lines = await balances.balances(ledger, UNDERSCORE)
    legs = [address for p in own.rows for address in (p.source, p.destination)]
    assert merchants_of(legs) == {"m_1"}
    assert merchants_of([p.destination for p in by_prefix.rows]) == {"m_1"}
    assert merchants_of(
        [address for p in everyone.rows for address in (p.source, p.destination)]
    ) == set(MERCHANTS)
    assert txs.rows and all(
        merchants_of([a for p in tx.postings for a in (p.source, p.destination)]) == {"m_1"}
        for tx in txs.rows
    )
    assert merchants_of([line.account for line in lines]) == {"m_1"}
    for refused in (
        lambda: balances.balances(ledger, M1, prefix="fees:"),
        lambda: balances.balances(ledger, M1, accounts=["merchants:m2:NGN:available"]),
        lambda: transactions.list_transactions(ledger, M1, account="merchants:m2:"),
    ):
        with pytest.raises(Forbidden):
            await refused()
    async with container.engine.connect() as connection:
        with pytest.raises(Forbidden):
            await postings.list_postings(connection, M1, POSTGRES, account="merchants:m_1:")


async def test_account_movements_of_a_merchant_stay_under_its_prefix(
    books: None, container: Container, clock: ManualClock
) -> None:
    window = {"from_time": clock.now() - timedelta(days=1), "to_time": clock.now()}
    own = await movements.account_movements(container.ledger, M1, prefix="merchants:m1:", **window)
    assert merchants_of([line.account for line in own.by_account]) == {"m1"}
    with pytest.raises(Forbidden):
        await movements.account_movements(container.ledger, M1, prefix="fees:", **window)
    fees = await movements.account_movements(container.ledger, ANALYST, prefix="fees:", **window)
    assert [(m.asset, m.change_minor) for m in fees.by_asset] == [("NGN/2", 4 * 100)]


async def test_statements_of_a_merchant_are_its_own(books: None, container: Container) -> None:
    async with container.engine.begin() as connection:
        await reports.run_gates(connection, OPERATOR, POSTGRES, container.templates)
    async with container.engine.connect() as connection:
        own = await reports.statement_lines(connection, M1, POSTGRES, "m1", "NGN")
        other = await reports.statement_lines(connection, ANALYST, POSTGRES, "m2", "NGN")
        with pytest.raises(Forbidden):
            await reports.statement_lines(connection, M1, POSTGRES, "m2", "NGN")
    assert own.lines and {line.merchant_id for line in own.lines} == {"m1"}
    assert other.lines and {line.merchant_id for line in other.lines} == {"m2"}


def cross_merchant_reads(container: Container) -> dict[str, Callable[..., Any]]:
    """Views across merchants: each takes (connection, visibility)."""
    clock, catalog = container.clock, container.templates
    return {
        "flags": flags.list_flags,
        "manual review": lambda c, v: holds.manual_review_queue(c, v),
        "outbox": lambda c, v: outbox.pending_events(c, v, clock),
        "templates": lambda c, v: templates.template_status(c, v, catalog),
        "command stats": lambda c, v: commands.command_stats(c, v, clock, 3600),
        "provider events": lambda c, v: provider_events.list_provider_events(c, v, 10),
        "trial balance": lambda c, v: reports.trial_balance(c, v, POSTGRES),
        "alm": lambda c, v: reports.alm(c, v, POSTGRES),
        "gates": lambda c, v: reports.run_gates(c, v, POSTGRES, catalog),
        "coa": reports.chart_of_accounts,
        "gl mappings": reports.gl_mappings,
        "coa drift": lambda c, v: reports.coa_drift(c, v, catalog),
    }


async def test_cross_merchant_views_are_for_staff_and_analysts_only(
    books: None, container: Container
) -> None:
    for name, read in cross_merchant_reads(container).items():
        async with container.engine.begin() as connection:
            with pytest.raises(Forbidden):
                await read(connection, M1)
            for visibility in (ANALYST, OPERATOR, Visibility(SYSTEM_CLI)):
                assert await read(connection, visibility) is not None, name
    async with container.engine.connect() as connection:
        queue = await holds.manual_review_queue(connection, ANALYST)
    assert [h.payout_id for h in queue.rows] == ["po-m2"]


async def test_an_analyst_reads_everything_an_operator_reads(
    books: None, container: Container
) -> None:
    async def everything(visibility: Visibility, connection: AsyncConnection) -> list[Any]:
        return [
            (await wallets.list_wallets(connection, visibility)).rows,
            (await holds.list_holds(connection, visibility)).rows,
            (await postings.list_postings(connection, visibility, POSTGRES)).rows,
            await flags.list_flags(connection, visibility),
            await reports.trial_balance(connection, visibility, POSTGRES),
        ]

    async with container.engine.connect() as connection:
        assert await everything(ANALYST, connection) == await everything(OPERATOR, connection)

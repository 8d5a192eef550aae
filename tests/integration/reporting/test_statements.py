"""The statements read model: running balances chain from zero to the ledger balance, an
incremental rebuild equals a full one, pages are keyset cursors, rebuilds may race."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.reporting.conftest import mixed_workload
from tests.support.service_fixtures import Run
from walletflow.domain.errors import ValidationError
from walletflow.reporting.statements import (
    StatementLine,
    list_statement_lines,
    rebuild_statements,
    wallet_balances,
)
from walletflow.service.clock import ManualClock


async def rebuild(engine: AsyncEngine, *, full: bool = False, **options: Any) -> Any:
    async with engine.begin() as connection:
        return await rebuild_statements(connection, full=full, **options)


async def all_lines(
    engine: AsyncEngine, merchant_id: str, currency: str, limit: int = 500
) -> list[StatementLine]:
    """Every line of a wallet, oldest first, by walking the pages."""
    lines: list[StatementLine] = []
    cursor = None
    async with engine.connect() as connection:
        for _ in range(1000):
            page = await list_statement_lines(connection, merchant_id, currency, cursor, limit)
            lines.extend(page.lines)
            cursor = page.next_cursor
            if cursor is None:
                break
    return list(reversed(lines))


async def snapshot(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT * FROM statement_lines ORDER BY seq"))
        return [tuple(row) for row in rows]


async def test_running_balances_chain_from_zero_to_the_ledger_balance(
    engine: AsyncEngine, run: Run, workload: dict[str, Any]
) -> None:
    await rebuild(engine)
    lines = await all_lines(engine, "m1", "NGN")
    async with engine.connect() as connection:
        live = await wallet_balances(connection, "m1", "NGN")
    expected = {
        "available": live.available_minor,
        "holds": live.holds_minor,
        "reserve": live.reserve_minor,
    }
    for wallet_account, balance_minor in expected.items():
        account_lines = [line for line in lines if line.wallet_account == wallet_account]
        assert account_lines, wallet_account
        previous_after = 0
        for line in account_lines:
            assert line.balance_before_minor == previous_after
            assert line.balance_after_minor == line.balance_before_minor + line.amount_minor
            previous_after = line.balance_after_minor
        assert previous_after == balance_minor, wallet_account


async def test_a_payin_line_shows_the_net_credit_with_before_and_after(
    engine: AsyncEngine, run: Run
) -> None:
    await run("createWallet", merchant_id="m1", currency="UGX")
    first = await run(
        "postPayin",
        merchant_id="m1",
        currency="UGX",
        amount="10001",
        fee="101",
        vat="18",
        provider="sandbox",
    )
    await run("postPayin", merchant_id="m1", currency="UGX", amount="500", provider="sandbox")
    await rebuild(engine)
    lines = await all_lines(engine, "m1", "UGX")
    assert [(x.amount_minor, x.balance_before_minor, x.balance_after_minor) for x in lines] == [
        (10001 - 101 - 18, 0, 9882),  # net of fee and VAT
        (500, 9882, 10382),
    ]
    assert lines[0].tx_id == first.result.transaction_id
    assert lines[0].reference == first.result.reference
    assert lines[0].asset == "UGX"
    assert lines[0].description == "payin"


async def test_descriptions_carry_the_transfer_description_and_the_correction_reason(
    engine: AsyncEngine, run: Run, funded_merchant: str
) -> None:
    await run("createWallet", merchant_id="m2", currency="NGN")
    await run(
        "transfer",
        from_merchant_id="m1",
        to_merchant_id="m2",
        currency="NGN",
        amount="5",
        description="invoice 7",
    )
    await run(
        "postCorrection",
        direction="debit",
        merchant_id="m1",
        currency="NGN",
        amount="1",
        reason="duplicate credit",
        evidence_reference="TICKET-2",
    )
    await rebuild(engine)
    m1 = await all_lines(engine, "m1", "NGN")
    m2 = await all_lines(engine, "m2", "NGN")
    assert [line.description for line in m1[-2:]] == ["invoice 7", "duplicate credit"]
    assert [(line.description, line.amount_minor) for line in m2] == [("invoice 7", 500)]


async def test_incremental_rebuilds_produce_exactly_the_rows_of_a_full_rebuild(
    engine: AsyncEngine, run: Run, clock: ManualClock
) -> None:
    stages = 0

    async def tracking_run(*args: Any, **kwargs: Any) -> Any:
        nonlocal stages
        outcome = await run(*args, **kwargs)
        stages += 1
        if stages % 7 == 0:
            await rebuild(engine, batch_size=2)
        return outcome

    await mixed_workload(tracking_run, clock)
    await rebuild(engine, batch_size=3)
    incremental = await snapshot(engine)
    report = await rebuild(engine, full=True)
    assert report.caught_up and report.full
    assert report.lines == len(incremental)
    assert await snapshot(engine) == incremental


async def test_an_incremental_rebuild_applies_only_transactions_after_the_cursor(
    engine: AsyncEngine, run: Run, funded_merchant: str
) -> None:
    first = await rebuild(engine)
    assert (first.transactions, first.lines) == (1, 1)
    assert (await rebuild(engine)).transactions == 0
    await run("postPayin", merchant_id="m1", currency="NGN", amount="1", provider="sandbox")
    second = await rebuild(engine)
    assert (second.transactions, second.lines) == (1, 1)
    assert len(await all_lines(engine, "m1", "NGN")) == 2


async def test_batches_are_bounded_and_report_progress(
    engine: AsyncEngine, run: Run, workload: dict[str, Any]
) -> None:
    calls: list[tuple[int, int]] = []
    report = await rebuild(engine, full=True, batch_size=4, progress=lambda *a: calls.append(a))
    assert report.caught_up
    assert report.batches == len(calls) == -(-report.transactions // 4)
    assert [done for done, _ in calls] == [
        min(4 * i, report.transactions) for i in range(1, len(calls) + 1)
    ]
    assert {total for _, total in calls} == {report.transactions}

    limited = await rebuild(engine, full=True, batch_size=2, max_batches=3)
    assert (limited.transactions, limited.batches, limited.caught_up) == (6, 3, False)


async def test_concurrent_rebuilds_write_every_line_exactly_once(
    engine: AsyncEngine, run: Run, workload: dict[str, Any]
) -> None:
    reports = await asyncio.gather(*(rebuild(engine, batch_size=3) for _ in range(4)))
    assert sum(report.transactions for report in reports) == max(
        report.transactions for report in reports
    )
    async with engine.connect() as connection:
        duplicates = await connection.scalar(
            text(
                "SELECT count(*) FROM (SELECT tx_id, ordinal, address FROM statement_lines "
                "GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
            )
        )
    assert duplicates == 0


async def test_keyset_pages_list_every_line_once_newest_first(
    engine: AsyncEngine, run: Run, workload: dict[str, Any]
) -> None:
    await rebuild(engine)
    one_page = await all_lines(engine, "m1", "NGN", limit=500)
    paged = await all_lines(engine, "m1", "NGN", limit=2)
    assert paged == one_page
    assert [line.seq for line in one_page] == sorted(line.seq for line in one_page)
    async with engine.connect() as connection:
        holds = await list_statement_lines(
            connection, "m1", "NGN", None, 100, wallet_account="holds"
        )
    assert {line.wallet_account for line in holds.lines} == {"holds"}
    assert {line.address for line in holds.lines} == {
        f"merchants:m1:NGN:holds:{payout}"
        for payout in ("po-settle", "po-release", "po-review", "po-open")
    }


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"wallet_account": "savings"}, "walletAccount"),
    ],
)
async def test_bad_statement_queries_are_validation_errors(
    engine: AsyncEngine, options: dict[str, Any], field: str
) -> None:
    arguments: dict[str, Any] = {"cursor": None, "limit": 10, **options}
    async with engine.connect() as connection:
        with pytest.raises(ValidationError) as raised:
            await list_statement_lines(connection, "m1", "NGN", **arguments)
    assert field in raised.value.field_errors


async def test_wallet_balances_split_available_holds_and_reserve(
    engine: AsyncEngine, run: Run, workload: dict[str, Any]
) -> None:
    async with engine.connect() as connection:
        ngn = await wallet_balances(connection, "m1", "NGN")
        ugx = await wallet_balances(connection, "m1", "UGX")
        nobody = await wallet_balances(connection, "m_1", "NGN")
    assert ngn.holds_minor == 10_000 + 5_000  # po-review + po-open stay held
    assert ngn.reserve_minor == 40_000 - 15_000
    assert (ugx.asset, ugx.holds_minor, ugx.reserve_minor) == ("UGX", 1000, 0)
    assert nobody.total_minor == 0  # '_' is not a LIKE wildcard here

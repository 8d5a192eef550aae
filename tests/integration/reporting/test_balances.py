"""Trial balance and ALM: per asset the debits equal the credits; every address lands in its
COA account (or, visibly, on the UNMAPPED line); liabilities are what merchants are owed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.service_fixtures import Run
from walletflow.domain.errors import ValidationError
from walletflow.reporting.balances import UNMAPPED, alm_view, trial_balance
from walletflow.reporting.statements import wallet_balances


async def test_the_trial_balance_foots_for_every_asset_after_a_mixed_workload(
    engine: AsyncEngine, workload: dict[str, Any]
) -> None:
    async with engine.connect() as connection:
        balance = await trial_balance(connection)
    assert balance.foots
    assert [total.asset for total in balance.totals] == ["KES/2", "NGN/2", "UGX", "USD/2", "USDC/6"]
    for total in balance.totals:
        assert total.debit_minor == total.credit_minor > 0
        lines = [line for line in balance.lines if line.asset == total.asset]
        assert sum(line.debit_minor for line in lines) == total.debit_minor
    assert UNMAPPED not in {line.code for line in balance.lines}


async def test_a_zero_decimal_payin_lands_in_its_coa_accounts_in_whole_units(
    engine: AsyncEngine, workload: dict[str, Any]
) -> None:
    async with engine.connect() as connection:
        ugx = await trial_balance(connection, "UGX")
    by_code = {line.code: line for line in ugx.lines}
    assert {line.asset for line in ugx.lines} == {"UGX"}
    assert by_code["1020"].balance_minor == 150001  # provider receivable (debit-normal)
    assert by_code["2010"].balance_minor == 150001 - 1501 - 18 - 1000
    assert by_code["2020"].balance_minor == 1000  # the open UGX payout hold
    assert by_code["2100"].balance_minor == 18
    assert by_code["4000"].balance_minor == 1501
    assert by_code["2010"].account_class == "LIABILITY"
    assert not by_code["2010"].abnormal


async def test_addresses_without_a_loaded_coa_show_on_the_unmapped_line_and_still_foot(
    engine: AsyncEngine, run: Run, funded_merchant: str
) -> None:
    async with engine.connect() as connection:
        balance = await trial_balance(connection)
    assert {line.code for line in balance.lines} == {UNMAPPED}
    assert balance.foots
    [line] = balance.lines
    assert line.accounts == 4  # provider, merchant, fees, VAT


async def test_a_malformed_asset_filter_is_a_validation_error(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(ValidationError):
            await trial_balance(connection, "ngn")


async def test_alm_liabilities_are_the_merchant_wallets_and_vat_per_currency(
    engine: AsyncEngine, workload: dict[str, Any]
) -> None:
    async with engine.connect() as connection:
        view = await alm_view(connection)
        m1 = await wallet_balances(connection, "m1", "NGN")
        m2 = await wallet_balances(connection, "m2", "NGN")
        balance = await trial_balance(connection, "NGN/2")
    ngn = next(summary for summary in view.summaries if summary.currency == "NGN")
    vat = next(line.balance_minor for line in balance.lines if line.code == "2100")
    assert ngn.liabilities_minor == m1.total_minor + m2.total_minor + vat
    assert ngn.net_position_minor == ngn.assets_minor - ngn.liabilities_minor
    assert ngn.unmapped_minor == 0
    assert {line.account_class for line in view.lines if line.currency == "NGN"} == {
        "ASSET",
        "LIABILITY",
        "EQUITY",
        "REVENUE",
    }
    assert [summary.currency for summary in view.summaries] == ["KES", "NGN", "UGX", "USD", "USDC"]

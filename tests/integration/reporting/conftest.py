"""Reporting fixtures: the service container and command runner, and a mixed workload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.service_fixtures import Run
from walletflow.service.clock import ManualClock

NGN_MERCHANTS = ("m1", "m2")


async def mixed_workload(run: Run, clock: ManualClock) -> dict[str, Any]:
    """Every kind of money movement, through the registry: pay-ins (NGN, UGX zero-decimal,
    USD), a transfer, payouts reserved / settled / released / in manual review, an FX deal,
    an OTC trade, stablecoin on- and off-ramps, bank funding and a GPS corridor payout, an
    opening balance, a rolling reserve held and partly released, corrections both ways and a
    reversal. Returns ids a test may need."""
    for merchant in NGN_MERCHANTS:
        await run("createWallet", merchant_id=merchant, currency="NGN")
    for currency in ("UGX", "USD", "KES", "USDC"):
        await run("createWallet", merchant_id="m1", currency=currency)
    await run(
        "postPayin",
        merchant_id="m1",
        currency="NGN",
        amount="10750.00",
        fee="500.00",
        vat="250.00",
        provider="sandbox",
        provider_reference="pi-ngn-1",
    )
    await run(
        "postPayin",
        merchant_id="m2",
        currency="NGN",
        amount="2000.00",
        fee="20.00",
        provider="sandbox",
        provider_reference="pi-ngn-2",
    )
    await run(
        "postPayin",
        merchant_id="m1",
        currency="UGX",
        amount="150001",
        fee="1501",
        vat="18",
        provider="sandbox",
        provider_reference="pi-ugx-1",
    )
    await run(
        "postPayin",
        merchant_id="m1",
        currency="USD",
        amount="500.00",
        fee="5.00",
        provider="sandbox",
        provider_reference="pi-usd-1",
    )
    transfer = await run(
        "transfer",
        from_merchant_id="m1",
        to_merchant_id="m2",
        currency="NGN",
        amount="1000.00",
        description="supplier invoice 42",
    )
    to_reverse = await run(
        "transfer",
        from_merchant_id="m2",
        to_merchant_id="m1",
        currency="NGN",
        amount="10.00",
    )
    destination = {"bank": "058", "account": "0123456789"}
    for payout_id, amount in (
        ("po-settle", "300.00"),
        ("po-release", "200.00"),
        ("po-review", "100.00"),
        ("po-open", "50.00"),
    ):
        await run(
            "reservePayout",
            merchant_id="m1",
            currency="NGN",
            amount=amount,
            provider="sandbox",
            destination=destination,
            payout_id=payout_id,
        )
    await run(
        "reservePayout",
        merchant_id="m1",
        currency="UGX",
        amount="1000",
        provider="sandbox",
        destination=destination,
        payout_id="po-ugx",
    )
    await run("settleHold", payout_id="po-settle", provider_reference="prv-1")
    await run("releaseHold", payout_id="po-release", reason="beneficiary bank rejected")
    await run("markPayoutManualReview", payout_id="po-review", reason="ambiguous status")
    await run("setFxRate", base_currency="USD", quote_currency="NGN", rate="1500")
    quote = await run(
        "fxQuote",
        merchant_id="m1",
        sell_currency="NGN",
        buy_currency="USD",
        sell_amount="1500.00",
    )
    await run("bookFxDeal", merchant_id="m1", quote_id=quote.result.data["quoteId"])
    await run(
        "bookCounterpartyTrade",
        counterparty_id="otc1",
        pay_currency="NGN",
        pay_amount="150000.00",
        receive_currency="USD",
        receive_amount="100.00",
    )
    await run(
        "stablecoinOnramp",
        merchant_id="m1",
        fiat_currency="USD",
        fiat_amount="100.00",
        coin="USDC",
        coin_amount="99.5",
    )
    await run(
        "stablecoinOfframp",
        merchant_id="m1",
        coin="USDC",
        coin_amount="20",
        fiat_currency="USD",
        fiat_amount="19.90",
    )
    await run("fundBankAccount", bank_id="kcb", currency="KES", amount="100000.00")
    await run("topUpGpsPool", bank_id="kcb", currency="KES", amount="50000.00")
    await run(
        "gpsCrossCurrencyPayout",
        merchant_id="m1",
        debit_currency="NGN",
        debit_amount="155.00",
        credit_currency="KES",
        credit_amount="12.80",
        provider="sandbox",
    )
    await run("postOpeningBalance", merchant_id="m2", currency="NGN", amount="777.77")
    await run("holdRollingReserve", merchant_id="m1", currency="NGN", amount="400.00")
    await run("releaseRollingReserve", merchant_id="m1", currency="NGN", amount="150.00")
    await run(
        "postCorrection",
        direction="credit",
        merchant_id="m1",
        currency="NGN",
        amount="12.34",
        reason="fee refund",
        evidence_reference="TICKET-1",
    )
    await run(
        "postCorrection",
        direction="debit",
        merchant_id="m2",
        currency="NGN",
        amount="1.00",
        reason="duplicate credit",
        evidence_reference="STMT-2026-11-30#4",
    )
    await run("reverse", transaction_id=to_reverse.result.transaction_id, reason="sent in error")
    await run("rebuildTemplates")
    await run("rebuildCoa")
    return {"transfer_tx": transfer.result.transaction_id}


@pytest.fixture
async def workload(run: Run, clock: ManualClock) -> dict[str, Any]:
    return await mixed_workload(run, clock)

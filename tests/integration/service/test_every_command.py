"""Every registry command, through the one bus: success and replay, a reused key with another
body, bad input, unknown currency, insufficient funds and a denied flag where they apply.

A new registry entry without an example here fails `test_every_registry_command_has_an_example`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.service_fixtures import Run
from walletflow.domain.errors import (
    FlagDenied,
    IdempotencyKeyReused,
    InsufficientFunds,
    UnknownCurrency,
    ValidationError,
)
from walletflow.service.catalog import build_registry
from walletflow.service.fields import FieldKind

DEST = {"bank": "058", "account": "0123456789"}


@dataclass(frozen=True)
class Example:
    good: dict[str, Any]
    other_body: dict[str, Any]
    """The same command with a different body, for the key-reuse test."""
    overdraw: dict[str, Any] | None = None
    flag: tuple[str, str] | None = None
    """A flag scope that, disabled, must deny the good input."""
    extra: dict[str, Any] = field(default_factory=dict)


async def build_world(run: Run) -> dict[str, Any]:
    """Merchants m1, m2 with NGN, USD, USDC wallets and money; payouts po-a/b/c reserved; a
    bank, a KES GPS pool, an FX rate, a quote, a rolling reserve and a reversible transfer."""
    for merchant in ("m1", "m2"):
        for currency in ("NGN", "USD", "USDC", "KES"):
            await run("createWallet", merchant_id=merchant, currency=currency)
    await run("postOpeningBalance", merchant_id="m1", currency="NGN", amount="100000")
    await run("postOpeningBalance", merchant_id="m1", currency="USDC", amount="10")
    for payout in ("po-a", "po-b", "po-c"):
        await run(
            "reservePayout",
            merchant_id="m1",
            currency="NGN",
            amount="100",
            provider="sandbox",
            destination=DEST,
            payout_id=payout,
        )
    await run("fundBankAccount", bank_id="b1", currency="KES", amount="100000")
    await run("topUpGpsPool", bank_id="b1", currency="KES", amount="50000")
    await run("setFxRate", base_currency="USD", quote_currency="NGN", rate="1500")
    quote = await run(
        "fxQuote", merchant_id="m1", sell_currency="NGN", buy_currency="USD", sell_amount="1500"
    )
    await run("holdRollingReserve", merchant_id="m1", currency="NGN", amount="50")
    moved = await run(
        "transfer", from_merchant_id="m1", to_merchant_id="m2", currency="NGN", amount="10"
    )
    return {"quote_id": quote.result.data["quoteId"], "transfer_tx": moved.result.transaction_id}


def examples(world: dict[str, Any]) -> dict[str, Example]:
    m1_ngn = {"merchant_id": "m1", "currency": "NGN"}
    evidence = {"evidence_reference": "TICKET-42"}
    return {
        "createWallet": Example(
            {"merchant_id": "m3", "currency": "NGN"}, {"merchant_id": "m3", "currency": "KES"}
        ),
        "postPayin": Example(
            {**m1_ngn, "amount": "100", "fee": "1", "vat": "0.07", "provider": "sandbox"},
            {**m1_ngn, "amount": "101", "provider": "sandbox"},
            flag=("provider", "sandbox"),
        ),
        "transfer": Example(
            {"from_merchant_id": "m1", "to_merchant_id": "m2", "currency": "NGN", "amount": "5"},
            {"from_merchant_id": "m1", "to_merchant_id": "m2", "currency": "NGN", "amount": "6"},
            overdraw={
                "from_merchant_id": "m1",
                "to_merchant_id": "m2",
                "currency": "NGN",
                "amount": "100000000",
            },
            flag=("merchant", "m2"),
        ),
        "postOpeningBalance": Example({**m1_ngn, "amount": "5"}, {**m1_ngn, "amount": "6"}),
        "migrateWallet": Example(
            {
                "merchant_id": "m7",
                "currency": "NGN",
                "available": "10.50",
                "reserve": "1",
                "holds": "2.25",
                "as_of": "2026-01-31T23:59:59+00:00",
            },
            {
                "merchant_id": "m7",
                "currency": "NGN",
                "available": "10.51",
                "reserve": "1",
                "holds": "2.25",
                "as_of": "2026-01-31T23:59:59+00:00",
            },
        ),
        "holdRollingReserve": Example(
            {**m1_ngn, "amount": "5"},
            {**m1_ngn, "amount": "6"},
            overdraw={**m1_ngn, "amount": "100000000"},
        ),
        "releaseRollingReserve": Example(
            {**m1_ngn, "amount": "5"},
            {**m1_ngn, "amount": "6"},
            overdraw={**m1_ngn, "amount": "51"},
        ),
        "reservePayout": Example(
            {**m1_ngn, "amount": "5", "provider": "sandbox", "destination": DEST},
            {**m1_ngn, "amount": "6", "provider": "sandbox", "destination": DEST},
            overdraw={**m1_ngn, "amount": "100000000", "provider": "sandbox", "destination": DEST},
            flag=("currency", "NGN"),
        ),
        "settleHold": Example({"payout_id": "po-a"}, {"payout_id": "po-b"}),
        "releaseHold": Example(
            {"payout_id": "po-b", "reason": "failed"}, {"payout_id": "po-c", "reason": "failed"}
        ),
        "markPayoutManualReview": Example(
            {"payout_id": "po-c", "reason": "unknown"}, {"payout_id": "po-a", "reason": "x"}
        ),
        "setFxRate": Example(
            {"base_currency": "USD", "quote_currency": "KES", "rate": "129.5"},
            {"base_currency": "USD", "quote_currency": "KES", "rate": "130"},
        ),
        "fxQuote": Example(
            {
                "merchant_id": "m1",
                "sell_currency": "NGN",
                "buy_currency": "USD",
                "sell_amount": "3000",
            },
            {
                "merchant_id": "m1",
                "sell_currency": "NGN",
                "buy_currency": "USD",
                "sell_amount": "4500",
            },
        ),
        "bookFxDeal": Example(
            {"merchant_id": "m1", "quote_id": world["quote_id"]},
            {"merchant_id": "m1", "quote_id": "fxq_other"},
            flag=("currency", "USD"),
        ),
        "bookCounterpartyTrade": Example(
            {
                "counterparty_id": "cp1",
                "pay_currency": "USD",
                "pay_amount": "10",
                "receive_currency": "NGN",
                "receive_amount": "15000",
            },
            {
                "counterparty_id": "cp1",
                "pay_currency": "USD",
                "pay_amount": "11",
                "receive_currency": "NGN",
                "receive_amount": "15000",
            },
        ),
        "stablecoinOnramp": Example(
            {
                "merchant_id": "m1",
                "fiat_currency": "NGN",
                "fiat_amount": "1500",
                "coin": "USDC",
                "coin_amount": "1",
            },
            {
                "merchant_id": "m1",
                "fiat_currency": "NGN",
                "fiat_amount": "1501",
                "coin": "USDC",
                "coin_amount": "1",
            },
            overdraw={
                "merchant_id": "m1",
                "fiat_currency": "NGN",
                "fiat_amount": "100000000",
                "coin": "USDC",
                "coin_amount": "1",
            },
            flag=("merchant", "m1"),
        ),
        "stablecoinOfframp": Example(
            {
                "merchant_id": "m1",
                "coin": "USDC",
                "coin_amount": "0.5",
                "fiat_currency": "NGN",
                "fiat_amount": "700",
            },
            {
                "merchant_id": "m1",
                "coin": "USDC",
                "coin_amount": "0.6",
                "fiat_currency": "NGN",
                "fiat_amount": "700",
            },
            overdraw={
                "merchant_id": "m1",
                "coin": "USDC",
                "coin_amount": "11",
                "fiat_currency": "NGN",
                "fiat_amount": "700",
            },
            flag=("currency", "NGN"),
        ),
        "topUpGpsPool": Example(
            {"bank_id": "b1", "currency": "KES", "amount": "100"},
            {"bank_id": "b1", "currency": "KES", "amount": "101"},
            overdraw={"bank_id": "b1", "currency": "KES", "amount": "50001"},
        ),
        "gpsCrossCurrencyPayout": Example(
            {
                "merchant_id": "m1",
                "debit_currency": "NGN",
                "debit_amount": "1000",
                "credit_currency": "KES",
                "credit_amount": "80",
                "provider": "sandbox",
            },
            {
                "merchant_id": "m1",
                "debit_currency": "NGN",
                "debit_amount": "1001",
                "credit_currency": "KES",
                "credit_amount": "80",
                "provider": "sandbox",
            },
            overdraw={
                "merchant_id": "m1",
                "debit_currency": "NGN",
                "debit_amount": "1000",
                "credit_currency": "KES",
                "credit_amount": "50001",
                "provider": "sandbox",
            },
            flag=("provider", "sandbox"),
        ),
        "fundBankAccount": Example(
            {"bank_id": "b1", "currency": "NGN", "amount": "100"},
            {"bank_id": "b1", "currency": "NGN", "amount": "101"},
        ),
        "postCorrection": Example(
            {"direction": "credit", **m1_ngn, "amount": "1", "reason": "fee refund", **evidence},
            {"direction": "credit", **m1_ngn, "amount": "2", "reason": "fee refund", **evidence},
            overdraw={
                "direction": "debit",
                **m1_ngn,
                "amount": "100000000",
                "reason": "x",
                **evidence,
            },
        ),
        "reverse": Example(
            {"transaction_id": world["transfer_tx"], "reason": "sent in error"},
            {"transaction_id": world["transfer_tx"], "reason": "another reason"},
        ),
        "setFeatureFlag": Example(
            {"scope_type": "merchant", "scope_value": "m9", "enabled": True},
            {"scope_type": "merchant", "scope_value": "m9", "enabled": False},
        ),
        "rebuildTemplates": Example({}, {"unexpected": 1}),
        "saveAccessLists": Example(
            {"allowed_emails": ["ops@example.com"], "admin_emails": ["boss@example.com"]},
            {"allowed_emails": ["other@example.com"]},
        ),
        "rebuildCoa": Example({}, {"unexpected": 1}),
        "rebuildStatements": Example({"full": True}, {"full": False}),
        "exportPostings": Example(
            {"from_time": "2026-01-01T00:00:00Z", "to_time": "2026-02-01T00:00:00Z"},
            {"from_time": "2026-01-01T00:00:00Z", "to_time": "2026-03-01T00:00:00Z"},
        ),
    }


COMMANDS = build_registry().names()
_STATIC = examples({"quote_id": "q", "transfer_tx": 1})
OVERDRAW_COMMANDS = [name for name in COMMANDS if name in _STATIC and _STATIC[name].overdraw]
FLAGGED_COMMANDS = [name for name in COMMANDS if name in _STATIC and _STATIC[name].flag]


def example_for(name: str, world: dict[str, Any]) -> Example:
    table = examples(world)
    if name not in table:
        pytest.fail(f"no example for {name}: add one to test_every_command.py")
    return table[name]


def test_every_registry_command_has_an_example() -> None:
    missing = set(COMMANDS) - set(_STATIC)
    assert not missing, f"add examples for {sorted(missing)}"


@pytest.mark.parametrize("name", COMMANDS)
async def test_command_succeeds_and_a_replay_returns_the_same_result(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    first = await run(name, key=f"ok-{name}", **example.good)
    again = await run(name, key=f"ok-{name}", **example.good)
    assert first.result.status == "completed" and not first.replayed
    assert again.replayed and again.result == first.result


@pytest.mark.parametrize("name", COMMANDS)
async def test_a_reused_key_with_another_body_is_refused(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    await run(name, key=f"reuse-{name}", **example.good)
    with pytest.raises((IdempotencyKeyReused, ValidationError)):
        await run(name, key=f"reuse-{name}", **example.other_body)


@pytest.mark.parametrize("name", COMMANDS)
async def test_an_unknown_field_is_a_validation_error(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    with pytest.raises(ValidationError) as caught:
        await run(name, **{**example.good, "no_such_field": "x"})
    assert "no_such_field" in caught.value.field_errors


CURRENCY_COMMANDS = [
    spec.name for spec in build_registry() if any(f.kind is FieldKind.CURRENCY for f in spec.fields)
]


@pytest.mark.parametrize("name", CURRENCY_COMMANDS)
async def test_an_unknown_currency_is_refused_at_the_boundary(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    spec = build_registry().get(name)
    currency_field = next(f.name for f in spec.fields if f.kind is FieldKind.CURRENCY)
    with pytest.raises(UnknownCurrency):
        await run(name, **{**example.good, currency_field: "XYZ"})


@pytest.mark.parametrize("name", OVERDRAW_COMMANDS)
async def test_overdrawing_is_insufficient_funds(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    assert example.overdraw is not None
    with pytest.raises(InsufficientFunds):
        await run(name, **example.overdraw)


@pytest.mark.parametrize("name", FLAGGED_COMMANDS)
async def test_a_disabled_scope_denies_the_command(run: Run, name: str) -> None:
    example = example_for(name, await build_world(run))
    assert example.flag is not None
    scope_type, scope_value = example.flag
    await run("setFeatureFlag", scope_type=scope_type, scope_value=scope_value, enabled=False)
    with pytest.raises(FlagDenied):
        await run(name, **example.good)


def test_a_rate_is_recorded_without_float_noise_or_a_trailing_point() -> None:
    from fractions import Fraction

    from walletflow.service.handlers.treasury import format_rate

    assert format_rate(Fraction(1500)) == "1500"
    assert format_rate(Fraction(1, 1500)) == "0.000666666667"
    assert format_rate(Fraction("129.5")) == "129.5"

"""Every command goes through one path: validate → authorize → claim → ledger → commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from tests.integration.service.conftest import Run
from walletflow.bootstrap import Container
from walletflow.db.schema_foundation import idempotency_claims
from walletflow.db.schema_service import command_log, outbox
from walletflow.domain.errors import (
    FlagDenied,
    FractionalMinorUnit,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
    UnknownCurrency,
    ValidationError,
    WrongScale,
)

AVAILABLE = "merchants:m1:NGN:available"


def balance_of(outcome: object, account: str, asset: str = "NGN/2") -> int:
    for line in outcome.result.balances:  # type: ignore[attr-defined]
        if line.account == account and line.asset == asset:
            return int(line.balance_minor)
    raise AssertionError(f"{account} not in result")


async def test_payin_credits_net_and_splits_fee_and_vat(run: Run, funded_merchant: str) -> None:
    outcome = await run(
        "postPayin",
        merchant_id="m1",
        currency="NGN",
        amount="107.50",
        fee="5.00",
        vat="2.50",
        provider="sandbox",
    )
    assert outcome.result.status == "completed"
    assert outcome.result.transaction_id is not None
    assert balance_of(outcome, AVAILABLE) == 100_000 + 10_000
    assert balance_of(outcome, "fees:NGN:revenue") == 5_000 + 500
    assert balance_of(outcome, "tax:NGN:vat") == 2_500 + 250
    assert balance_of(outcome, "providers:sandbox:NGN:settlement") == -(107_500 + 10_750)


async def test_replay_with_same_body_returns_the_original_result(run: Run) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    first = await run(
        "postPayin", key="k-1", merchant_id="m1", currency="NGN", amount="10", provider="p"
    )
    again = await run(
        "postPayin", key="k-1", merchant_id="m1", currency="NGN", amount="10.00", provider="p"
    )
    assert again.replayed and not first.replayed
    assert again.result == first.result


async def test_replay_with_another_body_is_refused_and_writes_nothing(
    run: Run, container: Container
) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("postPayin", key="k-1", merchant_id="m1", currency="NGN", amount="10", provider="p")
    with pytest.raises(IdempotencyKeyReused):
        await run(
            "postPayin", key="k-1", merchant_id="m1", currency="NGN", amount="11", provider="p"
        )
    balances = await container.ledger.balances(accounts=[AVAILABLE])
    assert balances[AVAILABLE]["NGN/2"] == 1000


async def test_concurrent_identical_commands_post_once(run: Run, container: Container) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    outcomes = await asyncio.gather(
        *(
            run("postPayin", key="race", merchant_id="m1", currency="NGN", amount="1", provider="p")
            for _ in range(20)
        )
    )
    assert all(o.result == outcomes[0].result for o in outcomes)
    assert sum(not o.replayed for o in outcomes) == 1
    balances = await container.ledger.balances(accounts=[AVAILABLE])
    assert balances[AVAILABLE]["NGN/2"] == 100


async def test_insufficient_funds_is_typed_and_leaves_no_trace(
    run: Run, funded_merchant: str, container: Container
) -> None:
    await run("createWallet", merchant_id="m2", currency="NGN")
    with pytest.raises(InsufficientFunds):
        await run(
            "transfer",
            key="too-much",
            from_merchant_id="m1",
            to_merchant_id="m2",
            currency="NGN",
            amount="1000.01",
        )
    async with container.engine.connect() as connection:
        claims = await connection.scalar(
            select(func.count()).where(idempotency_claims.c.key == "too-much")
        )
        failures = await connection.scalar(
            select(func.count()).where(
                command_log.c.idempotency_key == "too-much", command_log.c.status == "failed"
            )
        )
    assert claims == 0, "a failed command leaves its key free for a corrected retry"
    assert failures == 1, "but the failure is on the record"


@pytest.mark.parametrize(
    ("raw", "error", "field"),
    [
        ({"currency": "XXX", "amount": "1"}, UnknownCurrency, "currency"),
        ({"currency": "NGN/3", "amount": "1"}, WrongScale, "currency"),
        ({"currency": "NGN", "amount": "1.001"}, FractionalMinorUnit, "amount"),
        ({"currency": "NGN", "amount": "-5"}, ValidationError, "amount"),
        ({"currency": "NGN", "amount": "abc"}, ValidationError, "amount"),
        ({"currency": "NGN", "amount": "0"}, ValidationError, "amount"),
    ],
)
async def test_bad_input_is_a_typed_error_naming_the_field(
    run: Run, raw: dict[str, str], error: type[Exception], field: str
) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    with pytest.raises(error) as caught:
        await run("postPayin", merchant_id="m1", provider="p", **raw)
    assert field in caught.value.field_errors  # type: ignore[attr-defined]


async def test_payin_to_a_missing_wallet_is_not_found(run: Run) -> None:
    with pytest.raises(NotFound):
        await run("postPayin", merchant_id="ghost", currency="NGN", amount="1", provider="p")


async def test_disabled_merchant_flag_denies_money_movement(run: Run) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=False)
    with pytest.raises(FlagDenied):
        await run("postPayin", merchant_id="m1", currency="NGN", amount="1", provider="p")


async def test_a_money_command_writes_its_outbox_event_in_the_same_transaction(
    run: Run, container: Container
) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    outcome = await run("postPayin", merchant_id="m1", currency="NGN", amount="1", provider="p")
    async with container.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(outbox.c.event_type, outbox.c.payload).where(
                    outbox.c.event_type == "payin.posted"
                )
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].payload["transactionId"] == outcome.result.transaction_id


async def test_the_same_provider_payin_under_two_keys_posts_once(run: Run) -> None:
    from walletflow.domain.errors import ReferenceConflict

    await run("createWallet", merchant_id="m1", currency="NGN")
    await run(
        "postPayin",
        merchant_id="m1",
        currency="NGN",
        amount="5",
        provider="p",
        provider_reference="psp-77",
    )
    with pytest.raises(ReferenceConflict):
        await run(
            "postPayin",
            merchant_id="m1",
            currency="NGN",
            amount="5",
            provider="p",
            provider_reference="psp-77",
        )


async def test_zero_decimal_currency_amounts_are_whole_units(run: Run) -> None:
    await run("createWallet", merchant_id="m1", currency="UGX")
    outcome = await run(
        "postPayin",
        merchant_id="m1",
        currency="UGX",
        amount="10001",
        fee="101",
        vat="18",
        provider="p",
    )
    assert balance_of(outcome, "merchants:m1:UGX:available", "UGX") == 10001 - 119
    assert balance_of(outcome, "tax:UGX:vat", "UGX") == 18
    assert balance_of(outcome, "fees:UGX:revenue", "UGX") == 101

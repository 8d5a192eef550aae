"""Holds: a state machine the database enforces too. Flags: kill switches and fail_closed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.service_fixtures import Run
from walletflow.bootstrap import Container, build_container
from walletflow.config import load_settings
from walletflow.domain.errors import (
    Conflict,
    FlagDenied,
    IllegalStateTransition,
    ReferenceConflict,
)
from walletflow.service.clock import ManualClock

DEST = {"bank": "058", "account": "0123456789"}


async def reserve(run: Run, payout_id: str = "po-1", amount: str = "40") -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("postOpeningBalance", merchant_id="m1", currency="NGN", amount="100")
    await run(
        "reservePayout",
        merchant_id="m1",
        currency="NGN",
        amount=amount,
        provider="sandbox",
        destination=DEST,
        payout_id=payout_id,
    )


async def available(container: Container) -> int:
    account = "merchants:m1:NGN:available"
    return (await container.ledger.balances(accounts=[account]))[account]["NGN/2"]


async def test_reserve_moves_funds_into_the_payouts_own_sub_account(
    run: Run, container: Container
) -> None:
    await reserve(run)
    hold = "merchants:m1:NGN:holds:po-1"
    balances = await container.ledger.balances(accounts=[hold])
    assert balances[hold]["NGN/2"] == 4000
    assert await available(container) == 6000


async def test_settle_drains_the_hold_to_the_provider_for_its_reserved_amount(
    run: Run, container: Container
) -> None:
    await reserve(run)
    outcome = await run("settleHold", payout_id="po-1")
    lines = {(b.account, b.asset): b.balance_minor for b in outcome.result.balances}
    assert lines[("merchants:m1:NGN:holds:po-1", "NGN/2")] == 0
    assert lines[("providers:sandbox:NGN:settlement", "NGN/2")] == 4000


async def test_release_returns_the_whole_hold_and_a_later_settle_is_illegal(
    run: Run, container: Container
) -> None:
    await reserve(run)
    await run("releaseHold", payout_id="po-1", reason="bank rejected")
    assert await available(container) == 10000
    with pytest.raises(IllegalStateTransition):
        await run("settleHold", payout_id="po-1")
    with pytest.raises(IllegalStateTransition):
        await run("releaseHold", payout_id="po-1", reason="again")


async def test_manual_review_can_still_settle_or_release(run: Run) -> None:
    await reserve(run)
    await run("markPayoutManualReview", payout_id="po-1", reason="provider timed out")
    with pytest.raises(IllegalStateTransition):
        await run("markPayoutManualReview", payout_id="po-1", reason="twice")
    await run("settleHold", payout_id="po-1")


async def test_a_taken_payout_id_is_a_conflict(run: Run) -> None:
    await reserve(run)
    # The ledger's UNIQUE(reference) on "payout:<id>:reserve" refuses it before the hold row.
    with pytest.raises((Conflict, ReferenceConflict)):
        await run(
            "reservePayout",
            merchant_id="m1",
            currency="NGN",
            amount="1",
            provider="sandbox",
            destination=DEST,
            payout_id="po-1",
        )


async def test_the_database_refuses_a_hold_both_settled_and_released(
    run: Run, engine: AsyncEngine
) -> None:
    await reserve(run)
    await run("settleHold", payout_id="po-1")
    with pytest.raises(IntegrityError, match=r"settle_xor_release|state_matches_completion"):
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE holds SET release_tx_id = settle_tx_id WHERE payout_id = 'po-1'")
            )


async def test_the_database_refuses_a_state_without_its_completion(
    run: Run, engine: AsyncEngine
) -> None:
    await reserve(run)
    with pytest.raises(IntegrityError, match="state_matches_completion"):
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE holds SET state = 'released'"))


def container_with(engine: AsyncEngine, **env: str) -> Container:
    return build_container(load_settings(env), engine, clock=ManualClock())


async def test_fail_closed_transacts_only_in_an_enabled_scope(
    run: Run, engine: AsyncEngine
) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    closed = container_with(engine, CORE_WALLET_FLAG_MODE="fail_closed")
    payin = {"merchant_id": "m1", "currency": "NGN", "amount": "1", "provider": "sandbox"}
    from walletflow.domain.principals import SYSTEM_CLI

    with pytest.raises(FlagDenied):
        await closed.bus.execute("postPayin", payin, SYSTEM_CLI, "closed-1")
    await run("setFeatureFlag", scope_type="currency", scope_value="NGN", enabled=True)
    outcome = await closed.bus.execute("postPayin", payin, SYSTEM_CLI, "closed-2")
    assert outcome.result.status == "completed"
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=False)
    with pytest.raises(FlagDenied):
        await closed.bus.execute("postPayin", payin, SYSTEM_CLI, "closed-3")


async def test_completions_record_while_disabled_unless_gated(
    run: Run, engine: AsyncEngine
) -> None:
    from walletflow.domain.principals import SYSTEM_CLI

    await reserve(run, "po-1")
    await reserve(run, "po-2", amount="10")
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=False)
    gated = container_with(engine, CORE_WALLET_COMPLETION_GATING="gate")
    with pytest.raises(FlagDenied):
        await gated.bus.execute("settleHold", {"payout_id": "po-1"}, SYSTEM_CLI, "gated-1")
    recording = await run("settleHold", payout_id="po-2")
    assert recording.result.status == "completed"

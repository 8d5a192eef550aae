"""Corrections post against suspense, never @world, and the suspense gate lists every open item
(reason, evidence, amount, age) and turns red once one is older than the limit. Items are
cleared first in, first out by postings the other way (a correction back, a reversal)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.service_fixtures import Run
from walletflow.bootstrap import Container
from walletflow.domain.errors import ValidationError
from walletflow.reporting.gates import GateResult, run_gates
from walletflow.service.clock import ManualClock

SUSPENSE = "suspense:NGN:adjustments"


async def suspense_gate(
    engine: AsyncEngine, container: Container, now: datetime, max_age_days: int = 3
) -> GateResult:
    async with engine.begin() as connection:
        results = await run_gates(
            connection, container.templates, now=now, suspense_max_age_days=max_age_days
        )
    return {result.name: result for result in results}["suspense"]


async def correct(run: Run, direction: str, amount: str, reason: str, evidence: str) -> Any:
    return await run(
        "postCorrection",
        direction=direction,
        merchant_id="m1",
        currency="NGN",
        amount=amount,
        reason=reason,
        evidence_reference=evidence,
    )


@pytest.fixture
async def wallets(run: Run) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")


async def test_a_correction_credit_comes_from_suspense_not_world(
    run: Run, container: Container, wallets: None
) -> None:
    outcome = await correct(run, "credit", "12.34", "fee charged twice", "TICKET-7")
    tx = await container.ledger.get_transaction(int(outcome.result.transaction_id or 0))
    assert [(p.source, p.destination, p.amount_minor) for p in tx.postings] == [
        (SUSPENSE, "merchants:m1:NGN:available", 1234)
    ]
    assert tx.metadata["reason"] == "fee charged twice"
    assert tx.metadata["evidence"] == "TICKET-7"


async def test_a_correction_without_evidence_is_refused_and_writes_nothing(
    run: Run, container: Container, wallets: None
) -> None:
    with pytest.raises(ValidationError) as refused:
        await run(
            "postCorrection",
            direction="credit",
            merchant_id="m1",
            currency="NGN",
            amount="1",
            reason="no proof",
        )
    assert refused.value.field_errors == {"evidence_reference": "required"}
    assert await container.ledger.balances(accounts=[SUSPENSE], asset="NGN/2") in (
        {},
        {SUSPENSE: {}},
    )


async def test_the_gate_lists_each_open_item_with_reason_evidence_amount_and_age(
    engine: AsyncEngine, run: Run, container: Container, clock: ManualClock, wallets: None
) -> None:
    await correct(run, "credit", "12.34", "fee charged twice", "TICKET-7")
    gate = await suspense_gate(engine, container, clock.now() + timedelta(hours=2))
    assert gate.ok, gate.detail
    assert gate.detail["openItems"] == 1 and gate.detail["overdueItems"] == 0
    assert gate.detail["balances"] == [
        {"account": SUSPENSE, "asset": "NGN/2", "balanceMinor": -1234, "formatted": "-12.34 NGN"}
    ]
    [item] = gate.detail["items"]
    assert item["reason"] == "fee charged twice" and item["evidence"] == "TICKET-7"
    assert (item["amountMinor"], item["formatted"]) == (-1234, "-12.34 NGN")
    assert item["counterAccount"] == "merchants:m1:NGN:available"
    assert item["command"] == "postCorrection" and item["overdue"] is False
    assert 2 * 3600 - 120 <= item["ageS"] <= 2 * 3600 + 120


async def test_the_gate_turns_red_when_an_item_is_older_than_the_limit(
    engine: AsyncEngine, run: Run, container: Container, clock: ManualClock, wallets: None
) -> None:
    await correct(run, "credit", "5.00", "missed pay-in", "STMT-2026-11-30#4")
    later = clock.now() + timedelta(days=4)
    red = await suspense_gate(engine, container, later)
    assert not red.ok
    assert red.detail["overdueItems"] == 1 and red.detail["items"][0]["overdue"] is True
    assert (await suspense_gate(engine, container, later, max_age_days=5)).ok


async def test_a_correction_the_other_way_clears_the_oldest_item_first(
    engine: AsyncEngine, run: Run, container: Container, clock: ManualClock, wallets: None
) -> None:
    await correct(run, "credit", "10.00", "first", "T-1")
    await correct(run, "credit", "5.00", "second", "T-2")
    await correct(run, "debit", "12.00", "recovered", "T-3")
    gate = await suspense_gate(engine, container, clock.now())
    assert [(i["reason"], i["amountMinor"]) for i in gate.detail["items"]] == [("second", -300)]
    await correct(run, "debit", "3.00", "recovered the rest", "T-4")
    cleared = await suspense_gate(engine, container, clock.now() + timedelta(days=30))
    assert cleared.ok and cleared.detail["openItems"] == 0 and cleared.detail["balances"] == []


async def test_reversing_a_correction_clears_its_item(
    engine: AsyncEngine, run: Run, container: Container, clock: ManualClock, wallets: None
) -> None:
    outcome = await correct(run, "credit", "7.00", "wrong merchant", "T-9")
    await run("reverse", transaction_id=outcome.result.transaction_id, reason="entered in error")
    gate = await suspense_gate(engine, container, clock.now() + timedelta(days=30))
    assert gate.ok and gate.detail["openItems"] == 0

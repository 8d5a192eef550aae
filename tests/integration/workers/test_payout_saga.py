"""The payout saga against the real sandbox rail: submit → requery → settle | release | manual
review; ambiguity never becomes a release; a finished hold ends the saga; gating waits."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.workers.conftest import (
    AVAILABLE,
    FAST_SAGA,
    Run,
    drive,
    hold_state,
    reserve,
    saga_state,
    sandbox_stats,
    script,
)
from walletflow.bootstrap import Container
from walletflow.config import ConfigError
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_workers import payout_sagas
from walletflow.domain.principals import SYSTEM_SAGA
from walletflow.providers.port import PayoutRequest, ProviderOutcome, ProviderPort
from walletflow.providers.registry import ProviderRegistry
from walletflow.workers.payout_saga import (
    PayoutSagaRunner,
    check_lease_covers_calls,
    start_sagas,
)
from walletflow.workers.saga_rules import requery_delay_s

START_MINOR = 100_000
PAYOUT_MINOR = 10_000


async def completions(engine: AsyncEngine, payout_id: str, kind: str) -> int:
    async with engine.connect() as connection:
        count = (
            await connection.execute(
                select(func.count()).where(
                    ledger_transactions.c.reference == f"payout:{payout_id}:{kind}"
                )
            )
        ).scalar_one()
    return int(count)


async def available(container: Container) -> int:
    balances = await container.ledger.balances(accounts=[AVAILABLE])
    return balances.get(AVAILABLE, {}).get("NGN/2", 0)


async def saga_row(engine: AsyncEngine, payout_id: str) -> dict[str, object]:
    async with engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    select(payout_sagas).where(payout_sagas.c.payout_id == payout_id)
                )
            )
            .mappings()
            .one()
        )
    return dict(row)


def test_requery_backoff_doubles_and_is_capped() -> None:
    delays = [requery_delay_s(FAST_SAGA, n) for n in range(6)]
    assert delays == [0.05, 0.1, 0.2, 0.2, 0.2, 0.2]


async def test_succeeding_payout_is_settled_once_by_a_saga_started_from_the_reserved_hold(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
    container: Container,
) -> None:
    await reserve(run, "po_ok")
    assert await saga_state(engine, "po_ok") is None  # no relay ran: the tick's scan starts it
    states = await drive(runner, engine, ["po_ok"])
    assert states == {"po_ok": "done"}
    assert await hold_state(engine, "po_ok") == "settled"
    assert await completions(engine, "po_ok", "settled") == 1
    assert await completions(engine, "po_ok", "released") == 0
    stats = await sandbox_stats(control)
    assert stats["payouts_total"] == 1 and stats["submissions"] == {"po_ok": 1}
    row = await saga_row(engine, "po_ok")
    assert str(row["provider_reference"]).startswith("sbx_")
    assert row["lease_owner"] is None
    assert await available(container) == START_MINOR - PAYOUT_MINOR


async def test_definitive_failure_releases_the_hold_back_to_the_merchant(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
    container: Container,
) -> None:
    await script(control, "po_fail", behaviour="fail", reason="account closed")
    await reserve(run, "po_fail")
    assert await drive(runner, engine, ["po_fail"]) == {"po_fail": "done"}
    assert await hold_state(engine, "po_fail") == "released"
    assert await completions(engine, "po_fail", "released") == 1
    assert await available(container) == START_MINOR


@pytest.mark.parametrize("unknown_as", ["error_500", "pending"])
async def test_unknown_then_succeed_settles_after_requeries(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
    unknown_as: str,
) -> None:
    await script(
        control, "po_slow", behaviour="unknown_then_succeed", unknown_count=2, unknown_as=unknown_as
    )
    await reserve(run, "po_slow")
    assert await drive(runner, engine, ["po_slow"]) == {"po_slow": "done"}
    assert await hold_state(engine, "po_slow") == "settled"
    assert await completions(engine, "po_slow", "settled") == 1
    stats = await sandbox_stats(control)
    assert stats["submissions"] == {"po_slow": 1}
    assert stats["payouts_total"] == 1


@pytest.mark.parametrize(
    "behaviour",
    [
        {"behaviour": "error_500"},
        {"behaviour": "hang", "hang_s": 2.0, "hang_queries": True},
        {"behaviour": "unknown_then_fail", "unknown_count": 50, "unknown_as": "pending"},
    ],
    ids=["error_500", "hang", "pending_forever"],
)
async def test_ambiguous_outcome_ends_in_manual_review_never_in_a_release(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
    container: Container,
    behaviour: dict[str, object],
) -> None:
    await script(control, "po_amb", **behaviour)
    await reserve(run, "po_amb")
    assert await drive(runner, engine, ["po_amb"], timeout_s=15) == {"po_amb": "manual_review"}
    assert await hold_state(engine, "po_amb") == "manual_review"
    assert await completions(engine, "po_amb", "released") == 0
    assert await completions(engine, "po_amb", "settled") == 0
    assert await available(container) == START_MINOR - PAYOUT_MINOR  # nothing refunded
    row = await saga_row(engine, "po_amb")
    assert row["attempts"] == 0  # reset on entering completion
    outcome = row["last_outcome"]
    assert isinstance(outcome, dict)
    assert f"after {FAST_SAGA.requery_max} requeries" in str(outcome["completionReason"])


async def test_hold_settled_by_an_operator_before_submit_ends_the_saga_without_submitting(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
) -> None:
    await reserve(run, "po_op")
    async with engine.begin() as connection:  # what the relay does for payout.reserved
        assert await start_sagas(connection, ["po_op"]) == 1
    await run("settleHold", payout_id="po_op", provider_reference="manual-1")
    assert await drive(runner, engine, ["po_op"]) == {"po_op": "done"}
    assert (await sandbox_stats(control))["submissions_total"] == 0
    assert await completions(engine, "po_op", "settled") == 1


async def test_provider_callback_settling_mid_requery_ends_the_saga_cleanly(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    control: httpx.AsyncClient,
) -> None:
    await script(
        control, "po_cb", behaviour="unknown_then_succeed", unknown_count=50, unknown_as="pending"
    )
    await reserve(run, "po_cb")
    await drive(runner, engine, ["po_cb"], until=frozenset({"requerying"}))
    # The provider's webhook (same bus, provider principal) settles first.
    await run("settleHold", payout_id="po_cb", provider_reference="sbx-webhook")
    assert await drive(runner, engine, ["po_cb"]) == {"po_cb": "done"}
    assert await hold_state(engine, "po_cb") == "settled"
    assert await completions(engine, "po_cb", "settled") == 1


async def test_crash_between_the_settle_commit_and_the_saga_update_replays_the_settle(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    container: Container,
) -> None:
    await reserve(run, "po_crash")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO payout_sagas (payout_id, state, completion, provider_reference,"
                " last_outcome) VALUES ('po_crash', 'completing', 'settle', 'sbx_ref',"
                " CAST(:outcome AS JSONB))"
            ),
            {"outcome": json.dumps({"status": "succeeded", "completionReason": None})},
        )
    # What the killed worker had committed through the bus before dying.
    first = await container.bus.execute(
        "settleHold",
        {"payout_id": "po_crash", "provider_reference": "sbx_ref"},
        SYSTEM_SAGA,
        "saga:po_crash:settle",
    )
    assert not first.replayed
    assert await drive(runner, engine, ["po_crash"]) == {"po_crash": "done"}
    row = await saga_row(engine, "po_crash")
    assert row["last_error"] is None  # a replay, not an illegal transition
    assert await completions(engine, "po_crash", "settled") == 1


async def test_two_workers_advancing_the_same_sagas_submit_and_settle_each_payout_once(
    run: Run,
    funded: str,
    engine: AsyncEngine,
    container: Container,
    registry: ProviderRegistry,
    control: httpx.AsyncClient,
) -> None:
    payout_ids = [f"po_par_{n}" for n in range(6)]
    for payout_id in payout_ids:
        await reserve(run, payout_id, amount="10.00")
    workers = [
        PayoutSagaRunner(engine, container.bus, registry, FAST_SAGA, f"worker-{n}") for n in (1, 2)
    ]
    for _ in range(40):
        await asyncio.gather(*(worker.tick() for worker in workers))
        states = {pid: await saga_state(engine, pid) for pid in payout_ids}
        if all(state == "done" for state in states.values()):
            break
        await asyncio.sleep(0.05)
    assert {pid: await saga_state(engine, pid) for pid in payout_ids} == dict.fromkeys(
        payout_ids, "done"
    )
    stats = await sandbox_stats(control)
    assert stats["payouts_total"] == len(payout_ids)
    assert stats["submissions"] == {pid: 1 for pid in payout_ids}
    for payout_id in payout_ids:
        assert await completions(engine, payout_id, "settled") == 1


@pytest.mark.parametrize("settings_env", [{"CORE_WALLET_COMPLETION_GATING": "gate"}])
async def test_completion_gating_holds_the_settle_until_the_flag_is_enabled_again(
    run: Run,
    funded: str,
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    settings_env: dict[str, str],
) -> None:
    await reserve(run, "po_gate")
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=False)
    await drive(runner, engine, ["po_gate"], until=frozenset({"completing"}))
    for _ in range(4):  # several gated retries: still waiting, not failed, not released
        await asyncio.sleep(FAST_SAGA.gated_retry_s)
        await runner.tick()
    row = await saga_row(engine, "po_gate")
    assert row["state"] == "completing" and row["completion"] == "settle"
    assert str(row["last_error"]).startswith("FLAG_DENIED")
    assert await hold_state(engine, "po_gate") == "reserved"
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=True)
    assert await drive(runner, engine, ["po_gate"]) == {"po_gate": "done"}
    assert await hold_state(engine, "po_gate") == "settled"
    assert await completions(engine, "po_gate", "settled") == 1


async def test_without_gating_a_disabled_flag_does_not_stop_a_completion(
    run: Run, funded: str, runner: PayoutSagaRunner, engine: AsyncEngine
) -> None:
    await reserve(run, "po_record")
    await run("setFeatureFlag", scope_type="merchant", scope_value="m1", enabled=False)
    assert await drive(runner, engine, ["po_record"]) == {"po_record": "done"}
    assert await hold_state(engine, "po_record") == "settled"


class _ExplodingRail:
    """A broken adapter (a bug, not a provider answer): every call raises."""

    async def submit_payout(self, request: PayoutRequest) -> ProviderOutcome:
        raise RuntimeError("adapter bug")

    async def query_payout(self, payout_id: str) -> ProviderOutcome:
        raise RuntimeError("adapter bug")


class _Providers:
    def get(self, name: str) -> ProviderPort:
        return _ExplodingRail()


async def test_an_adapter_bug_hands_the_saga_back_without_moving_money(
    run: Run, funded: str, engine: AsyncEngine, container: Container
) -> None:
    await reserve(run, "po_bug")
    runner = PayoutSagaRunner(engine, container.bus, _Providers(), FAST_SAGA, "buggy-worker")
    report = await runner.tick()
    assert report.outcomes == {"error": 1}
    row = await saga_row(engine, "po_bug")
    assert row["state"] == "submitted"  # what it last recorded: a submit may be in flight
    assert row["lease_owner"] is None and row["last_error"] == "unexpected error"
    assert await hold_state(engine, "po_bug") == "reserved"
    assert (await runner.tick()).claimed == 0  # waits the backoff cap before the next try


def test_a_lease_shorter_than_a_provider_call_is_a_configuration_error() -> None:
    check_lease_covers_calls(FAST_SAGA, {"sandbox": FAST_SAGA.lease_s - 1.0})
    with pytest.raises(ConfigError) as refused:
        check_lease_covers_calls(FAST_SAGA, {"slow": FAST_SAGA.lease_s})
    assert refused.value.setting == "SAGA_LEASE_S"

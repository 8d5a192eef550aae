"""The saga survives `kill -9`: a real `walletflow worker` is killed while its payouts hang at
the sandbox rail; a second worker takes over after the leases expire. Every payout is paid
once at the provider, settled exactly once, and none is lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.workers.conftest import (
    CURRENCIES,
    PROVIDER,
    SECRET,
    Run,
    reserve,
    sandbox_stats,
)
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import holds
from walletflow.db.schema_workers import payout_sagas

PAYOUTS = [f"po_kill_{n}" for n in range(4)]
HANG_S = 1.5
STOP_TIMEOUT_S = 10.0


@contextlib.contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "walletflow", "worker", "--max-jobs", "10"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


async def wait_for(
    what: str, check: Callable[[], Awaitable[bool]], timeout_s: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"{what} not reached in {timeout_s}s; worker log:\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


@pytest.mark.timeout(60)
async def test_worker_killed_mid_submit_is_replaced_without_double_pay_or_loss(
    run: Run,
    funded: str,
    engine: AsyncEngine,
    database_url: str,
    workers_redis_url: str,
    wredis: Redis,
    sandbox_server: str,
    control: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    providers_file = tmp_path / "providers.json"
    providers_file.write_text(
        json.dumps(
            {
                "providers": [
                    {
                        "name": PROVIDER,
                        "base_url": sandbox_server,
                        "secret": SECRET,
                        "timeout_s": 1.8,
                        "currencies": sorted(CURRENCIES),
                    }
                ]
            }
        )
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": workers_redis_url,
        "PROVIDERS_FILE": str(providers_file),
        "SAGA_LEASE_S": "3",
        "SAGA_BACKOFF_BASE_S": "0.2",
        "SAGA_BACKOFF_CAP_S": "0.5",
        "SAGA_REQUERY_MAX": "10",
        "STATEMENTS_INTERVAL_S": "30",
        "LOG_LEVEL": "INFO",
    }
    response = await control.post(
        "/_default_script", json={"behaviour": "hang", "hang_s": HANG_S, "then": "succeeded"}
    )
    response.raise_for_status()
    for payout_id in PAYOUTS:
        await reserve(run, payout_id, amount="10.00")
    log_path = tmp_path / "workers.log"

    async def all_submitted() -> bool:
        submissions = (await sandbox_stats(control))["submissions"]
        return all(submissions.get(pid, 0) >= 1 for pid in PAYOUTS)

    async def hold_states() -> dict[str, str]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(holds.c.payout_id, holds.c.state).where(holds.c.payout_id.in_(PAYOUTS))
            )
            return {row.payout_id: row.state for row in rows}

    with worker_process(env, log_path) as first:
        await wait_for("first worker submits", all_submitted, 20.0, log_path)
        os.killpg(first.pid, signal.SIGKILL)  # mid-submit: the rail is still hanging
        first.wait(timeout=STOP_TIMEOUT_S)
    assert first.returncode == -signal.SIGKILL
    states_at_kill = await hold_states()
    assert states_at_kill == dict.fromkeys(PAYOUTS, "reserved")  # killed before any outcome

    async def all_settled() -> bool:
        return set((await hold_states()).values()) == {"settled"}

    with worker_process(env, log_path):
        await wait_for("second worker settles everything", all_settled, 25.0, log_path)

    stats = await sandbox_stats(control)
    assert stats["payouts_total"] == len(PAYOUTS)  # one payout per payout_id at the rail
    assert all(stats["statuses"][pid] == "succeeded" for pid in PAYOUTS)
    # The second worker resubmitted each payout (the first never saw an answer); the rail
    # answered with the same payout each time, since the payout_id is its idempotency key.
    assert all(stats["submissions"][pid] >= 2 for pid in PAYOUTS), stats["submissions"]
    async with engine.connect() as connection:
        for payout_id in PAYOUTS:
            settles = (
                await connection.execute(
                    select(func.count()).where(
                        ledger_transactions.c.reference.in_(
                            [f"payout:{payout_id}:settled", f"payout:{payout_id}:released"]
                        )
                    )
                )
            ).scalar_one()
            assert settles == 1, payout_id
        sagas = dict(
            (await connection.execute(select(payout_sagas.c.payout_id, payout_sagas.c.state))).all()
        )
    assert sagas == dict.fromkeys(PAYOUTS, "done")

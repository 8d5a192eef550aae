"""Group commit: concurrent posts coalesced into one transaction, each isolated and answered
with its own result; the database still refuses an overdraft; a kill -9 mid-batch loses or
doubles nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.domain.errors import IdempotencyKeyReused, InsufficientFunds, ReferenceConflict
from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.port import Posting, PostRequest, PostResult

NGN = "NGN/2"
ROOT = Path(__file__).resolve().parents[3]


def grouped(engine: AsyncEngine, max_batch: int = 64, max_wait_s: float = 0.002) -> PostgresLedger:
    return PostgresLedger(engine, group_commit=(max_batch, max_wait_s, 2))


def move(source: str, destination: str, amount: int, reference: str | None = None) -> PostRequest:
    return PostRequest(postings=(Posting(source, destination, amount, NGN),), reference=reference)


async def balance_of(ledger: PostgresLedger, account: str) -> int:
    return (await ledger.balances(accounts=[account])).get(account, {}).get(NGN, 0)


async def test_100_concurrent_grouped_spends_of_1_against_37_succeed_exactly_37_times(
    engine: AsyncEngine,
) -> None:
    ledger = grouped(engine)
    account = "merchants:race:NGN:available"
    await ledger.post(move("world", account, 37))
    outcomes = await asyncio.gather(
        *(ledger.post(move(account, "merchants:sink:NGN:available", 1)) for _ in range(100)),
        return_exceptions=True,
    )
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"PostResult": 37, "InsufficientFunds": 63}
    assert await balance_of(ledger, account) == 0
    assert ledger.group is not None and ledger.group.batches < ledger.group.batched_posts
    refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
    assert all(o.details == {"account": account, "asset": NGN} for o in refused)
    assert (await ledger.verify()).ok


async def test_each_caller_of_a_batch_gets_its_own_transaction_and_balances(
    engine: AsyncEngine,
) -> None:
    ledger = grouped(engine)
    results = await asyncio.gather(
        *(
            ledger.post(move("world", f"merchants:m{n}:NGN:available", n + 1, f"own-{n}"))
            for n in range(40)
        )
    )
    assert ledger.group is not None and ledger.group.batches < 40
    assert len({r.transaction.id for r in results}) == 40
    for n, result in enumerate(results):
        assert result.transaction.reference == f"own-{n}"
        assert result.post_balances[f"merchants:m{n}:NGN:available"] == {NGN: n + 1}
        stored = await ledger.get_transaction(result.transaction.id)
        assert stored.reference == f"own-{n}"
        assert stored.postings == result.transaction.postings


async def test_a_conflict_or_overdraft_in_a_batch_affects_no_other_post_of_it(
    engine: AsyncEngine,
) -> None:
    ledger = grouped(engine, max_wait_s=0.05)
    await ledger.post(move("world", "merchants:rich:NGN:available", 100))
    outcomes = await asyncio.gather(
        ledger.post(move("world", "merchants:a:NGN:available", 5, "dup")),
        ledger.post(move("merchants:poor:NGN:available", "merchants:a:NGN:available", 1)),
        ledger.post(move("world", "merchants:b:NGN:available", 7, "dup")),
        ledger.post(move("merchants:rich:NGN:available", "merchants:c:NGN:available", 60)),
        ledger.post(move("merchants:rich:NGN:available", "merchants:c:NGN:available", 60)),
        ledger.post(move("world", "merchants:d:NGN:available", 9, "fine")),
        return_exceptions=True,
    )
    assert ledger.group is not None and ledger.group.batches == 2  # the funding, then the six
    assert isinstance(outcomes[0], PostResult)
    assert isinstance(outcomes[1], InsufficientFunds)
    assert isinstance(outcomes[2], ReferenceConflict)
    assert isinstance(outcomes[3], PostResult)
    assert isinstance(outcomes[4], InsufficientFunds)
    assert isinstance(outcomes[5], PostResult)
    balances = await ledger.balances(prefix="merchants:")
    assert balances == {
        "merchants:a:NGN:available": {NGN: 5},
        "merchants:c:NGN:available": {NGN: 60},
        "merchants:d:NGN:available": {NGN: 9},
        "merchants:rich:NGN:available": {NGN: 40},
    }
    assert (await ledger.verify()).ok


async def test_the_batch_function_itself_refuses_an_overdraft_and_writes_nothing_of_it(
    engine: AsyncEngine,
) -> None:
    item = {
        "reference": "sneaky",
        "metadata": {},
        "effective_at": None,
        "p": [["merchants:empty:NGN:available", "merchants:x:NGN:available", NGN, "10"]],
        "v": [
            ["merchants:empty:NGN:available", NGN, 0, "0", "10", None],
            ["merchants:x:NGN:available", NGN, 0, "10", "0", False],
        ],
    }
    async with engine.begin() as connection:
        answers = json.loads(
            (
                await connection.execute(
                    text("SELECT ledger_post_batch(CAST(:items AS jsonb))::text"),
                    {"items": json.dumps([item])},
                )
            ).scalar_one()
        )
    assert answers[0]["error"] == "CONSTRAINT"
    assert answers[0]["constraint"] == "ck_ledger_volumes_no_overdraft"
    async with engine.connect() as connection:
        count = (
            await connection.execute(text("SELECT count(*) FROM ledger_transactions"))
        ).scalar()
    assert count == 0


async def test_posts_with_an_idempotency_key_keep_their_permanent_replay(
    engine: AsyncEngine,
) -> None:
    ledger = grouped(engine)
    request = PostRequest(
        postings=(Posting("world", "merchants:m1:NGN:available", 500, NGN),),
        idempotency_key="key-1",
    )
    results = await asyncio.gather(*(ledger.post(request) for _ in range(10)))
    assert len({r.transaction.id for r in results}) == 1
    assert await balance_of(ledger, "merchants:m1:NGN:available") == 500
    other = PostRequest(
        postings=(Posting("world", "merchants:m1:NGN:available", 501, NGN),),
        idempotency_key="key-1",
    )
    outcome = await asyncio.gather(ledger.post(other), return_exceptions=True)
    assert isinstance(outcome[0], IdempotencyKeyReused)


async def test_kill_9_of_a_grouped_writer_loses_no_acknowledged_post_and_doubles_none(
    engine: AsyncEngine, database_url: str
) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'backend'}:{ROOT}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.group_commit_writer", database_url, "24"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
        text=True,
    )
    assert process.stdout is not None
    acknowledged: dict[str, int] = {}
    for line in process.stdout:
        _, reference, tx_id = line.split()
        acknowledged[reference] = int(tx_id)
        if len(acknowledged) >= 400:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    for line in process.stdout:  # what was printed before the kill
        if line.startswith("ack "):
            _, reference, tx_id = line.split()
            acknowledged[reference] = int(tx_id)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    "SELECT t.id, t.reference, count(p.*) AS legs FROM ledger_transactions t "
                    "LEFT JOIN ledger_postings p ON p.tx_id = t.id GROUP BY t.id"
                )
            )
        ).all()
    stored = {row.reference: int(row.id) for row in rows}
    assert len(stored) == len(rows)  # one transaction per reference
    assert all(row.legs == 1 for row in rows)  # none half-written
    for reference, tx_id in acknowledged.items():
        assert stored.get(reference) == tx_id, reference
    ledger = PostgresLedger(engine)
    balances = await ledger.balances(prefix="merchants:crash")
    total = sum(assets.get(NGN, 0) for assets in balances.values())
    assert total == len(rows)
    await ledger.seal()
    assert (await ledger.verify()).ok

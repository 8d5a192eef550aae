"""The built-in Postgres ledger under concurrency, tampering and a caller's unit of work."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.ledger.conftest import template
from walletflow.domain.errors import (
    AlreadyReverted,
    IdempotencyKeyReused,
    InsufficientFunds,
    WalletflowError,
)
from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.port import Posting, PostRequest, PostResult

NGN = "NGN/2"


def spend(source: str, amount_minor: int, *, script: bool) -> PostRequest:
    destination = "merchants:sink:NGN:available"
    if script:
        return PostRequest(
            script=template("transfer"),
            variables={
                "amount": f"{NGN} {amount_minor}",
                "from_available": source,
                "to_available": destination,
            },
        )
    return PostRequest(postings=(Posting(source, destination, amount_minor, NGN),))


def payin(n: int, **extra: object) -> PostRequest:
    return PostRequest(
        script=template("payin"),
        variables={
            "amount": f"{NGN} 100000",
            "fee": f"{NGN} 1500",
            "vat_share": "3/43",
            "provider_settlement": "providers:paystack:NGN:settlement",
            "merchant_available": f"merchants:m{n % 50}:NGN:available",
            "fee_revenue": "fees:NGN:revenue",
            "vat_payable": "tax:NGN:vat",
        },
        reference=f"payin-{n}",
        **extra,  # type: ignore[arg-type]
    )


async def balance_of(ledger: PostgresLedger, account: str) -> int:
    return (await ledger.balances(accounts=[account])).get(account, {}).get(NGN, 0)


async def test_100_concurrent_spends_of_1_against_37_succeed_exactly_37_times(
    postgres_ledger: PostgresLedger,
) -> None:
    for round_number, script in enumerate((False, True, False, True)):
        account = f"merchants:race{round_number}:NGN:available"
        await postgres_ledger.post(PostRequest(postings=(Posting("world", account, 37, NGN),)))
        outcomes = await asyncio.gather(
            *(postgres_ledger.post(spend(account, 1, script=script)) for _ in range(100)),
            return_exceptions=True,
        )
        kinds = Counter(type(o).__name__ for o in outcomes)
        assert kinds == {"PostResult": 37, "InsufficientFunds": 63}, (script, kinds)
        assert await balance_of(postgres_ledger, account) == 0


async def test_20_concurrent_identical_posts_with_one_key_make_one_transaction(
    postgres_ledger: PostgresLedger,
) -> None:
    request = PostRequest(
        postings=(Posting("world", "merchants:m1:NGN:available", 500, NGN),),
        idempotency_key="same-key",
        metadata={"k": "v"},
    )
    answers = await asyncio.gather(*(postgres_ledger.post(request) for _ in range(20)))
    assert len({a.transaction.id for a in answers}) == 1
    assert all(a == answers[0] for a in answers)
    assert await balance_of(postgres_ledger, "merchants:m1:NGN:available") == 500
    page = await postgres_ledger.list_transactions()
    assert len(page.items) == 1


async def test_concurrent_replays_with_another_body_are_refused(
    postgres_ledger: PostgresLedger,
) -> None:
    bodies = [
        PostRequest(
            postings=(Posting("world", "merchants:m1:NGN:available", 100 + i % 2, NGN),),
            idempotency_key="contested",
        )
        for i in range(10)
    ]
    outcomes = await asyncio.gather(
        *(postgres_ledger.post(b) for b in bodies), return_exceptions=True
    )
    winners = [o for o in outcomes if isinstance(o, PostResult)]
    refused = [o for o in outcomes if isinstance(o, IdempotencyKeyReused)]
    assert len(winners) + len(refused) == 10
    assert len({w.transaction.id for w in winners}) == 1
    assert len(refused) == 5


async def test_10_concurrent_reverts_post_one_mirror(postgres_ledger: PostgresLedger) -> None:
    paid = await postgres_ledger.post(
        PostRequest(postings=(Posting("world", "merchants:m1:NGN:available", 900, NGN),))
    )
    outcomes = await asyncio.gather(
        *(postgres_ledger.revert(paid.transaction.id) for _ in range(10)),
        return_exceptions=True,
    )
    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"PostResult": 1, "AlreadyReverted": 9}
    assert await balance_of(postgres_ledger, "merchants:m1:NGN:available") == 0
    assert len((await postgres_ledger.list_transactions()).items) == 2


async def test_a_replay_long_after_still_returns_the_original(
    engine: AsyncEngine, database_url: str
) -> None:
    first_ledger = PostgresLedger(engine)
    request = payin(1, idempotency_key="payin-1-key")
    original = await first_ledger.post(request)
    for n in range(2, 30):
        await first_ledger.post(payin(n))
    await asyncio.sleep(1.0)
    # A new process, a new engine, much later: no TTL exists, the claim still answers.
    from walletflow.db.engine import create_engine

    later_engine = create_engine(database_url, pool_size=2)
    try:
        replay = await PostgresLedger(later_engine).post(request)
    finally:
        await later_engine.dispose()
    assert replay == original
    assert len((await first_ledger.list_transactions(limit=100)).items) == 29


async def test_hot_account_writes_from_many_tasks_all_succeed_and_the_books_foot(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    results = await asyncio.gather(*(postgres_ledger.post(payin(n)) for n in range(200)))
    assert len({r.transaction.id for r in results}) == 200
    fees = await postgres_ledger.balances(accounts=["fees:NGN:revenue", "tax:NGN:vat"])
    assert fees["fees:NGN:revenue"][NGN] + fees["tax:NGN:vat"][NGN] == 200 * 1500
    everything = await postgres_ledger.balances(prefix="")
    assert sum(by_asset.get(NGN, 0) for by_asset in everything.values()) == 0
    async with engine.connect() as connection:
        shards = await connection.scalar(
            text("SELECT count(*) FROM ledger_volumes WHERE account = 'fees:NGN:revenue'")
        )
    assert shards is not None and shards > 1, "the fee account's volumes are sharded"
    assert (await postgres_ledger.verify()).volume_mismatches == ()


async def test_paying_out_of_a_sharded_fee_account_spreads_over_shards_and_cannot_overdraw(
    postgres_ledger: PostgresLedger,
) -> None:
    await asyncio.gather(*(postgres_ledger.post(payin(n)) for n in range(40)))
    total = await balance_of(postgres_ledger, "fees:NGN:revenue")
    sweep = PostRequest(postings=(Posting("fees:NGN:revenue", "banks:gtb:NGN", total, NGN),))
    result = await postgres_ledger.post(sweep)
    assert result.post_balances["fees:NGN:revenue"][NGN] == 0
    assert await balance_of(postgres_ledger, "fees:NGN:revenue") == 0
    with pytest.raises(InsufficientFunds):
        await postgres_ledger.post(
            PostRequest(postings=(Posting("fees:NGN:revenue", "banks:gtb:NGN", 1, NGN),))
        )


async def test_a_protected_account_never_used_cannot_start_negative(
    postgres_ledger: PostgresLedger,
) -> None:
    with pytest.raises(InsufficientFunds) as raised:
        await postgres_ledger.post(spend("merchants:new:NGN:available", 1, script=False))
    assert raised.value.details["account"] == "merchants:new:NGN:available"
    assert await postgres_ledger.balances(prefix="merchants:new:") == {}


async def test_funding_accounts_may_go_negative_merchants_fees_and_tax_may_not(
    postgres_ledger: PostgresLedger,
) -> None:
    await postgres_ledger.post(
        PostRequest(postings=(Posting("banks:gtb:NGN", "merchants:m1:NGN:available", 5, NGN),))
    )
    assert await balance_of(postgres_ledger, "banks:gtb:NGN") == -5
    for protected in ("merchants:m2:NGN:available", "fees:NGN:revenue", "tax:NGN:vat"):
        with pytest.raises(InsufficientFunds):
            await postgres_ledger.post(
                PostRequest(postings=(Posting(protected, "banks:gtb:NGN", 1, NGN),))
            )


async def test_the_ledger_tables_are_append_only(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    await postgres_ledger.post(payin(1))
    for statement in (
        "UPDATE ledger_postings SET amount = amount + 1",
        "DELETE FROM ledger_transactions",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as connection:
                await connection.execute(text(statement))


async def test_verify_names_the_transaction_whose_posting_was_edited_by_hand(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    ids = [(await postgres_ledger.post(payin(n))).transaction.id for n in range(6)]
    assert await postgres_ledger.seal() == 6
    clean = await postgres_ledger.verify()
    assert clean.ok and clean.sealed_entries == 6 and clean.unsealed_transactions == 0
    victim = ids[3]
    async with engine.begin() as connection:
        await connection.execute(
            text("ALTER TABLE ledger_postings DISABLE TRIGGER ledger_postings_append_only")
        )
        await connection.execute(
            text(
                "UPDATE ledger_postings SET amount = amount + 100 WHERE tx_id = :id AND ordinal = 1"
            ),
            {"id": victim},
        )
        await connection.execute(
            text("ALTER TABLE ledger_postings ENABLE TRIGGER ledger_postings_append_only")
        )
    report = await postgres_ledger.verify()
    assert not report.ok
    assert report.first_broken_link is not None
    assert report.first_broken_link.tx_id == victim
    assert report.first_broken_link.seq == 4
    assert f"transaction {victim}" in report.first_broken_link.reason
    assert report.volume_mismatches, "the volume cache no longer equals the postings"


async def test_sealing_while_writers_run_chains_every_transaction_once_in_order(
    postgres_ledger: PostgresLedger,
) -> None:
    async def writers() -> None:
        await asyncio.gather(*(postgres_ledger.post(payin(n)) for n in range(120)))

    async def sealers() -> int:
        sealed = 0
        for _ in range(20):
            sealed += await postgres_ledger.seal()
            await asyncio.sleep(0.005)
        return sealed

    _, sealed_during = await asyncio.gather(writers(), sealers())
    sealed_after = await postgres_ledger.seal()
    assert sealed_during + sealed_after == 120
    report = await postgres_ledger.verify()
    assert report.ok and report.sealed_entries == 120 and report.unsealed_transactions == 0


async def test_a_bound_ledger_commits_with_the_callers_transaction(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        bound = postgres_ledger.bound(connection)
        result = await bound.post(payin(1, idempotency_key="uow-1"))
        await connection.execute(text("CREATE TEMP TABLE command_state (tx_id bigint)"))
        await connection.execute(
            text("INSERT INTO command_state VALUES (:id)"), {"id": result.transaction.id}
        )
        # Not visible outside the unit of work before it commits.
        assert await postgres_ledger.balances(prefix="merchants:") == {}
    assert await balance_of(postgres_ledger, "merchants:m1:NGN:available") == 98_500
    assert await postgres_ledger.post(payin(1, idempotency_key="uow-1")) == result


async def test_a_bound_ledger_rolls_back_with_the_caller_and_leaves_no_claim(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with engine.begin() as connection:
            await postgres_ledger.bound(connection).post(payin(1, idempotency_key="uow-2"))
            raise Boom
    assert await postgres_ledger.balances(prefix="merchants:") == {}
    # The key was never claimed: the same request now runs for real.
    result = await postgres_ledger.post(payin(1, idempotency_key="uow-2"))
    assert result.transaction.id > 0


async def test_a_bound_ledger_error_is_typed_and_leaves_the_rollback_to_the_caller(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        bound = postgres_ledger.bound(connection)
        with pytest.raises(WalletflowError) as raised:
            await bound.post(spend("merchants:empty:NGN:available", 5, script=True))
        assert raised.value.code == "INSUFFICIENT_FUND"
        assert raised.value.details["numscriptCode"] == "INSUFFICIENT_FUND"
        assert transaction.is_active
        await transaction.rollback()


async def test_a_second_revert_is_refused_by_the_database_itself(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    paid = await postgres_ledger.post(payin(1))
    await postgres_ledger.revert(paid.transaction.id)
    with pytest.raises(DBAPIError, match="uq_ledger_transactions_reverts_tx_id"):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO ledger_transactions (effective_at, reverts_tx_id) "
                    "VALUES (now(), :id)"
                ),
                {"id": paid.transaction.id},
            )
    with pytest.raises(AlreadyReverted):
        await postgres_ledger.revert(paid.transaction.id)


async def test_crossing_transfers_between_two_merchants_never_deadlock(
    postgres_ledger: PostgresLedger, engine: AsyncEngine
) -> None:
    a, b = "merchants:a:NGN:available", "merchants:b:NGN:available"
    await postgres_ledger.post(
        PostRequest(postings=(Posting("world", a, 10_000, NGN), Posting("world", b, 10_000, NGN)))
    )

    def move(i: int) -> PostRequest:
        source, destination = (a, b) if i % 2 else (b, a)
        if i % 4 < 2:
            return PostRequest(postings=(Posting(source, destination, 1, NGN),))
        return PostRequest(
            script=template("transfer"),
            variables={
                "amount": f"{NGN} 1",
                "from_available": source,
                "to_available": destination,
            },
        )

    async def one(i: int) -> PostResult:
        # Bound mode never retries, so a deadlock would surface here as Unavailable.
        async with engine.begin() as connection:
            return await postgres_ledger.bound(connection).post(move(i))

    outcomes = await asyncio.gather(*(one(i) for i in range(200)), return_exceptions=True)
    assert Counter(type(o).__name__ for o in outcomes) == {"PostResult": 200}
    balances = await postgres_ledger.balances(accounts=[a, b])
    assert balances[a][NGN] + balances[b][NGN] == 20_000


async def test_concurrent_reverts_with_one_key_answer_alike(
    postgres_ledger: PostgresLedger,
) -> None:
    paid = await postgres_ledger.post(payin(1))
    answers = await asyncio.gather(
        *(postgres_ledger.revert(paid.transaction.id, idempotency_key="rev-1") for _ in range(10))
    )
    assert all(answer == answers[0] for answer in answers)
    assert answers[0].transaction.reverts_tx_id == paid.transaction.id


async def test_the_sealer_loop_seals_until_stopped(postgres_ledger: PostgresLedger) -> None:
    from walletflow.ledger.pg import run_sealer

    await postgres_ledger.post(payin(1))
    stop = asyncio.Event()
    sealer = asyncio.create_task(run_sealer(postgres_ledger, 0.05, stop))
    await postgres_ledger.post(payin(2))
    for _ in range(100):
        report = await postgres_ledger.verify()
        if report.sealed_entries == 2:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(sealer, timeout=5)
    assert report.ok and report.sealed_entries == 2

"""The invariant checker catches each kind of damage: it is only worth running if it can fail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.reliability.invariants import check_invariants
from tests.support.service_fixtures import Run


@pytest.fixture
async def busy_books(run: Run) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("createWallet", merchant_id="m2", currency="NGN")
    await run(
        "postPayin", merchant_id="m1", currency="NGN", amount="500", fee="5", provider="sandbox"
    )
    await run("transfer", from_merchant_id="m1", to_merchant_id="m2", currency="NGN", amount="10")
    await run(
        "reservePayout",
        merchant_id="m1",
        currency="NGN",
        amount="40",
        provider="sandbox",
        destination={"bank": "058", "account": "0123456789"},
        payout_id="po-1",
    )


async def tamper(engine: AsyncEngine, statement: str) -> None:
    """Write as an attacker with database access would: past the append-only triggers."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        result = await connection.execute(text(statement))
        assert result.rowcount > 0, f"the damage touched nothing: {statement}"


async def names(engine: AsyncEngine) -> set[str]:
    return {violation.invariant for violation in await check_invariants(engine)}


async def test_healthy_books_have_no_violations(busy_books: None, engine: AsyncEngine) -> None:
    assert await names(engine) == set()


@pytest.mark.parametrize(
    ("damage", "invariant"),
    [
        ("UPDATE holds SET amount_minor = amount_minor + 1", "hold_matches_ledger"),
        (
            "DELETE FROM idempotency_claims WHERE scope = 'ops' AND response ? 'transactionId'"
            " AND response->>'command' = 'transfer'",
            "command_transaction_without_claim",
        ),
        (
            "UPDATE ledger_volumes SET input = input + 7 WHERE account = 'fees:NGN:revenue'",
            "books_foot",
        ),
        (
            "UPDATE idempotency_claims SET response = jsonb_set(response, '{transactionId}', "
            "'999999') WHERE response->>'command' = 'transfer'",
            "claim_maps_to_one_transaction",
        ),
    ],
)
async def test_each_kind_of_damage_is_named(
    busy_books: None, engine: AsyncEngine, damage: str, invariant: str
) -> None:
    await tamper(engine, damage)
    assert invariant in await names(engine)


async def test_an_edited_posting_breaks_the_hash_chain(
    busy_books: None, engine: AsyncEngine
) -> None:
    await check_invariants(engine)  # seals what has committed
    await tamper(engine, "UPDATE ledger_postings SET amount = amount + 1 WHERE tx_id = 2")
    found = await names(engine)
    assert "hash_chain" in found

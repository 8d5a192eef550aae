"""The LedgerPort contract: every test runs against the Postgres ledger and against the Formance
v2 adapter (on the fake Formance server). A behaviour the service relies on belongs here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.ledger.conftest import template
from walletflow.domain.errors import (
    AlreadyReverted,
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
    ReferenceConflict,
    ScriptError,
)
from walletflow.ledger.port import Account, LedgerPort, Posting, PostRequest, TransactionFilter

NGN = "NGN/2"


async def fund(ledger: LedgerPort, account: str, amount_minor: int, **extra: object) -> int:
    result = await ledger.post(
        PostRequest(postings=(Posting("world", account, amount_minor, NGN),), **extra)  # type: ignore[arg-type]
    )
    return result.transaction.id


def transfer(amount_minor: int, source: str, destination: str, **extra: object) -> PostRequest:
    return PostRequest(
        script=template("transfer"),
        variables={
            "amount": f"{NGN} {amount_minor}",
            "from_available": source,
            "to_available": destination,
        },
        **extra,  # type: ignore[arg-type]
    )


async def test_postings_move_money_and_report_post_balances(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 10_000)
    result = await ledger.post(
        PostRequest(
            postings=(
                Posting("merchants:m1:NGN:available", "merchants:m2:NGN:available", 2_500, NGN),
            ),
            metadata={"purpose": "test"},
        )
    )
    assert result.transaction.id > 0
    assert result.transaction.metadata == {"purpose": "test"}
    assert result.post_balances["merchants:m1:NGN:available"][NGN] == 7_500
    assert result.post_balances["merchants:m2:NGN:available"][NGN] == 2_500
    balances = await ledger.balances(prefix="merchants:")
    assert balances == {
        "merchants:m1:NGN:available": {NGN: 7_500},
        "merchants:m2:NGN:available": {NGN: 2_500},
    }


async def test_a_script_runs_as_numscript_and_its_postings_are_recorded(
    ledger: LedgerPort,
) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 1_000)
    result = await ledger.post(
        transfer(400, "merchants:m1:NGN:available", "merchants:m2:NGN:available")
    )
    assert result.transaction.postings == (
        Posting("merchants:m1:NGN:available", "merchants:m2:NGN:available", 400, NGN),
    )
    stored = await ledger.get_transaction(result.transaction.id)
    assert stored.postings == result.transaction.postings


async def test_payin_template_splits_fee_and_vat_and_the_books_foot(ledger: LedgerPort) -> None:
    result = await ledger.post(
        PostRequest(
            script=template("payin"),
            variables={
                "amount": f"{NGN} 1000000",
                "fee": f"{NGN} 15050",
                "vat_share": "3/43",
                "provider_settlement": "providers:paystack:NGN:settlement",
                "merchant_available": "merchants:m1:NGN:available",
                "fee_revenue": "fees:NGN:revenue",
                "vat_payable": "tax:NGN:vat",
            },
            reference="payin-1",
        )
    )
    balances = await ledger.balances(
        accounts=[
            "providers:paystack:NGN:settlement",
            "merchants:m1:NGN:available",
            "fees:NGN:revenue",
            "tax:NGN:vat",
        ]
    )
    assert balances["merchants:m1:NGN:available"][NGN] == 1_000_000 - 15_050
    assert balances["providers:paystack:NGN:settlement"][NGN] == -1_000_000
    assert sum(by_asset[NGN] for by_asset in balances.values()) == 0
    assert (
        result.post_balances["tax:NGN:vat"][NGN] + result.post_balances["fees:NGN:revenue"][NGN]
        == 15_050
    )


async def test_a_merchant_cannot_be_overdrawn(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 100)
    with pytest.raises(InsufficientFunds) as raised:
        await ledger.post(transfer(101, "merchants:m1:NGN:available", "merchants:m2:NGN:available"))
    assert raised.value.code == "INSUFFICIENT_FUND"
    with pytest.raises(InsufficientFunds):
        await ledger.post(
            PostRequest(
                postings=(
                    Posting("merchants:m1:NGN:available", "merchants:m2:NGN:available", 101, NGN),
                )
            )
        )
    assert await ledger.balances(accounts=["merchants:m1:NGN:available"]) == {
        "merchants:m1:NGN:available": {NGN: 100}
    }


async def test_a_reference_is_used_once(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 100, reference="ref-1")
    with pytest.raises(ReferenceConflict):
        await fund(ledger, "merchants:m1:NGN:available", 100, reference="ref-1")
    assert (await ledger.balances(accounts=["merchants:m1:NGN:available"]))[
        "merchants:m1:NGN:available"
    ][NGN] == 100


async def test_a_replay_returns_the_original_result(ledger: LedgerPort) -> None:
    request = PostRequest(
        postings=(Posting("world", "merchants:m1:NGN:available", 700, NGN),),
        reference="r-1",
        idempotency_key="key-1",
    )
    first = await ledger.post(request)
    await asyncio.sleep(0.05)
    await fund(ledger, "merchants:m1:NGN:available", 1)
    again = await ledger.post(request)
    assert again == first
    assert (await ledger.balances(accounts=["merchants:m1:NGN:available"]))[
        "merchants:m1:NGN:available"
    ][NGN] == 701


async def test_a_replay_with_another_body_is_refused(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 700, idempotency_key="key-1")
    with pytest.raises(IdempotencyKeyReused) as raised:
        await fund(ledger, "merchants:m1:NGN:available", 701, idempotency_key="key-1")
    assert raised.value.code == "IDEMPOTENCY_KEY_REUSED"


async def test_revert_posts_the_mirror_and_a_second_revert_is_refused(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 1_000)
    paid = await ledger.post(
        PostRequest(
            postings=(
                Posting("merchants:m1:NGN:available", "merchants:m2:NGN:available", 300, NGN),
            )
        )
    )
    reverted = await ledger.revert(paid.transaction.id, metadata={"reason": "customer refund"})
    assert reverted.transaction.reverts_tx_id == paid.transaction.id
    assert reverted.transaction.postings == (
        Posting("merchants:m2:NGN:available", "merchants:m1:NGN:available", 300, NGN),
    )
    assert reverted.transaction.metadata == {"reason": "customer refund"}
    assert (await ledger.get_transaction(paid.transaction.id)).reverted
    with pytest.raises(AlreadyReverted):
        await ledger.revert(paid.transaction.id)
    balances = await ledger.balances(prefix="merchants:")
    assert balances["merchants:m1:NGN:available"][NGN] == 1_000
    assert balances["merchants:m2:NGN:available"][NGN] == 0


async def test_revert_that_would_overdraw_is_refused(ledger: LedgerPort) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 500)
    paid = await ledger.post(
        transfer(500, "merchants:m1:NGN:available", "merchants:m2:NGN:available")
    )
    await ledger.post(transfer(500, "merchants:m2:NGN:available", "merchants:m3:NGN:available"))
    with pytest.raises(InsufficientFunds):
        await ledger.revert(paid.transaction.id)


async def test_an_unknown_transaction_is_not_found(ledger: LedgerPort) -> None:
    with pytest.raises(NotFound):
        await ledger.get_transaction(999_999)
    with pytest.raises(NotFound):
        await ledger.revert(999_999)


async def test_transactions_page_by_cursor_newest_first_without_gaps(ledger: LedgerPort) -> None:
    ids = [await fund(ledger, f"merchants:m{i}:NGN:available", 10 + i) for i in range(7)]
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        page = await ledger.list_transactions(cursor=cursor, limit=3)
        assert len(page.items) <= 3
        seen.extend(tx.id for tx in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


async def test_transactions_filter_by_account_reference_and_time(ledger: LedgerPort) -> None:
    past = datetime(2024, 1, 1, tzinfo=UTC)
    await fund(ledger, "merchants:m1:NGN:available", 10, reference="a", effective_at=past)
    await fund(ledger, "merchants:m2:NGN:available", 20, reference="b")
    by_account = await ledger.list_transactions(TransactionFilter(account="merchants:m2:"))
    assert [tx.reference for tx in by_account.items] == ["b"]
    by_reference = await ledger.list_transactions(TransactionFilter(reference="a"))
    assert [tx.postings[0].amount_minor for tx in by_reference.items] == [10]
    early = await ledger.list_transactions(TransactionFilter(end_time=past + timedelta(days=1)))
    assert [tx.reference for tx in early.items] == ["a"]


async def test_balances_as_of_an_effective_date_and_as_recorded_at_a_time(
    ledger: LedgerPort,
) -> None:
    account = "merchants:m1:NGN:available"
    await fund(ledger, account, 100)
    await asyncio.sleep(0.05)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    backdated = datetime.now(UTC) - timedelta(days=30)
    await fund(ledger, account, 40, effective_at=backdated)
    assert (await ledger.balances(accounts=[account]))[account][NGN] == 140
    # As of an effective date before today: only the back-dated posting counted then.
    as_of = await ledger.balances(accounts=[account], effective_at=backdated + timedelta(days=1))
    assert as_of[account][NGN] == 40
    # As recorded at `between`: the back-dated posting was not yet written.
    recorded = await ledger.balances(accounts=[account], at=between)
    assert recorded[account][NGN] == 100


async def test_a_dry_run_returns_postings_and_balances_and_writes_nothing(
    ledger: LedgerPort,
) -> None:
    await fund(ledger, "merchants:m1:NGN:available", 1_000)
    before = await ledger.list_transactions()
    preview = await ledger.post(
        transfer(
            250,
            "merchants:m1:NGN:available",
            "merchants:m2:NGN:available",
            dry_run=True,
            idempotency_key="dry",
        )
    )
    assert preview.dry_run
    assert preview.transaction.postings[0].amount_minor == 250
    assert preview.post_balances["merchants:m1:NGN:available"][NGN] == 750
    after = await ledger.list_transactions()
    assert after == before
    assert "merchants:m2:NGN:available" not in await ledger.balances(prefix="merchants:")
    real = await ledger.post(
        transfer(
            250, "merchants:m1:NGN:available", "merchants:m2:NGN:available", idempotency_key="dry"
        )
    )
    assert not real.dry_run


async def test_accounts_page_by_cursor_with_metadata(ledger: LedgerPort) -> None:
    for i in range(5):
        await fund(ledger, f"merchants:m{i}:NGN:available", 1)
    await ledger.post(
        PostRequest(
            script=(
                "send [NGN/2 5] (source = @world destination = @merchants:m9:NGN:available)\n"
                'set_account_meta(@merchants:m9:NGN:available, "tier", "gold")\n'
            )
        )
    )
    seen: list[Account] = []
    cursor: str | None = None
    for _ in range(10):
        page = await ledger.accounts(prefix="merchants:", cursor=cursor, limit=2)
        assert len(page.items) <= 2
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(a.address for a in seen) == sorted(
        [f"merchants:m{i}:NGN:available" for i in (0, 1, 2, 3, 4, 9)]
    )
    gold = next(a for a in seen if a.address == "merchants:m9:NGN:available")
    assert gold.metadata == {"tier": "gold"}


async def test_a_script_that_does_not_compile_is_a_script_error(ledger: LedgerPort) -> None:
    with pytest.raises(ScriptError):
        await ledger.post(PostRequest(script="send [NGN/2 5] (source = "))

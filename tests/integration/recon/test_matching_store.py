"""Matching against the real ledger: postings on the bank account, matched once; the rest
stays in the exceptions queue with its age."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.port import Posting, PostRequest
from walletflow.recon.formats import parse_statement
from walletflow.recon.store import account_gate, import_statement, run_matching
from walletflow.views.recon import unmatched_lines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "recon"
BANK = "banks:gtb:NGN"
NGN = "NGN/2"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_postings_match_their_lines_once_and_the_fee_is_an_exception(
    engine: AsyncEngine,
) -> None:
    ledger = PostgresLedger(engine)
    await ledger.post(
        PostRequest(
            postings=(Posting("world", BANK, 25_000_000, NGN),),
            reference="PAYIN-7F3A91C2",
            effective_at=ON,
        )
    )
    await ledger.post(
        PostRequest(
            postings=(Posting(BANK, "world", 5_000_000, NGN),),
            reference="PAYOUT-0B12C9D4",
            effective_at=ON,
        )
    )
    statement = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.camt053.xml").read_bytes())
    await import_statement(engine, statement, account=BANK, actor="t", now=NOW)

    first = await run_matching(engine, account=BANK, actor="ops@t", now=NOW)
    again = await run_matching(engine, account=BANK, actor="ops@t", now=NOW)

    assert (first.open_lines, first.open_movements, first.new_matches) == (3, 2, 2)
    assert (again.open_lines, again.open_movements, again.new_matches) == (1, 0, 0)
    async with engine.connect() as connection:
        queue = await unmatched_lines(connection, account=BANK, on=date(2026, 12, 2))
    assert [(x.signed_minor, x.age_days) for x in queue] == [(-350_000, 2)]


async def test_a_break_turns_the_bank_gate_red_and_booking_it_turns_it_green(
    engine: AsyncEngine,
) -> None:
    ledger = PostgresLedger(engine)
    await ledger.post(PostRequest(postings=(Posting("world", BANK, 100_000_000, NGN),)))
    await ledger.post(PostRequest(postings=(Posting("world", BANK, 25_000_000, NGN),)))
    await ledger.post(PostRequest(postings=(Posting(BANK, "world", 5_000_000, NGN),)))
    statement = parse_statement((FIXTURES / "gtb_ngn_2026-11-30.camt053.xml").read_bytes())
    await import_statement(engine, statement, account=BANK, actor="t", now=NOW)
    red = await account_gate(engine, account=BANK)
    assert (red.green, red.difference_minor) == (False, 350_000)  # the bank fee is the break
    await ledger.post(PostRequest(postings=(Posting(BANK, "fees:NGN:bank_charges", 350_000, NGN),)))
    green = await account_gate(engine, account=BANK)
    assert (green.green, green.statement_closing_minor) == (True, 119_650_000)

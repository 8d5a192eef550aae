"""The four gates: green after a mixed workload of every command; each turns red, with detail
naming what broke, when its invariant is broken directly in SQL."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.service_fixtures import Run
from walletflow.bootstrap import Container
from walletflow.coa.store import default_seeds_dir
from walletflow.reporting.gates import GATE_NAMES, MAX_DETAIL_ITEMS, GateResult, run_gates


async def gates(engine: AsyncEngine, container: Container, **options: Any) -> dict[str, GateResult]:
    async with engine.begin() as connection:
        results = await run_gates(connection, container.templates, **options)
    assert [result.name for result in results] == list(GATE_NAMES)
    return {result.name: result for result in results}


async def break_in_sql(engine: AsyncEngine, *statements: str) -> None:
    """Write past every guard: triggers off for this transaction (replica role)."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await connection.execute(text(statement))


def only_red(results: dict[str, GateResult]) -> set[str]:
    return {name for name, result in results.items() if not result.ok}


async def test_all_four_gates_are_green_after_a_mixed_workload(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    results = await gates(engine, container)
    assert only_red(results) == set(), {n: r.detail for n, r in results.items() if not r.ok}
    assert results["books_foot"].detail["assets"] == 5  # KES, NGN, UGX, USD, USDC
    assert results["holds"].detail["openHolds"] == 3  # po-open, po-review, po-ugx
    assert results["statements"].detail["lines"] > 0
    assert results["statements"].detail["pendingTransactions"] == 0
    assert results["coa_templates"].detail["driftCount"] == 0


async def test_books_foot_turns_red_when_a_volume_row_no_longer_sums_to_zero(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    await break_in_sql(
        engine,
        "UPDATE ledger_volumes SET input = input + 7 "
        "WHERE account = 'fees:NGN:revenue' AND asset = 'NGN/2' AND shard = "
        "(SELECT min(shard) FROM ledger_volumes WHERE account = 'fees:NGN:revenue')",
    )
    results = await gates(engine, container)
    assert only_red(results) == {"books_foot"}
    detail = results["books_foot"].detail
    assert detail["unbalancedAssets"] == [
        {"asset": "NGN/2", "postingsSumMinor": 0, "volumesSumMinor": 7}
    ]
    assert detail["cacheMismatches"] == [
        {
            "account": "fees:NGN:revenue",
            "asset": "NGN/2",
            "postingsMinor": detail["cacheMismatches"][0]["volumesMinor"] - 7,
            "volumesMinor": detail["cacheMismatches"][0]["volumesMinor"],
        }
    ]


async def test_books_foot_turns_red_on_a_posting_inserted_without_its_volumes(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    await break_in_sql(
        engine,
        "INSERT INTO ledger_postings (tx_id, ordinal, source, destination, asset, amount, "
        "effective_at, inserted_at) SELECT id, 99, 'world', 'merchants:m2:NGN:available', "
        "'NGN/2', 500, effective_at, inserted_at FROM ledger_transactions ORDER BY id LIMIT 1",
    )
    results = await gates(engine, container)
    assert "books_foot" in only_red(results)
    mismatched = {m["account"] for m in results["books_foot"].detail["cacheMismatches"]}
    assert mismatched == {"world", "merchants:m2:NGN:available"}
    assert results["books_foot"].detail["cacheMismatchCount"] == 2


async def test_holds_gate_turns_red_when_an_open_hold_amount_differs_from_the_ledger(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    await break_in_sql(
        engine, "UPDATE holds SET amount_minor = amount_minor + 1 WHERE payout_id = 'po-open'"
    )
    results = await gates(engine, container)
    assert only_red(results) == {"holds"}
    assert results["holds"].detail["problems"] == [
        {
            "problem": "open_hold_amount_differs",
            "payoutId": "po-open",
            "state": "reserved",
            "account": "merchants:m1:NGN:holds:po-open",
            "asset": "NGN/2",
            "holdAmountMinor": 5001,
            "ledgerMinor": 5000,
        }
    ]


async def test_holds_gate_turns_red_for_a_ledger_hold_without_a_row_and_a_closed_hold_with_money(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    await break_in_sql(
        engine,
        "DELETE FROM holds WHERE payout_id = 'po-open'",
        "UPDATE holds SET state = 'settled', settle_tx_id = reserve_tx_id "
        "WHERE payout_id = 'po-review'",
    )
    results = await gates(engine, container)
    assert only_red(results) == {"holds"}
    problems = {p["account"]: p["problem"] for p in results["holds"].detail["problems"]}
    assert problems == {
        "merchants:m1:NGN:holds:po-open": "ledger_hold_without_row",
        "merchants:m1:NGN:holds:po-review": "closed_hold_not_empty",
    }


async def test_statements_gate_turns_red_when_a_statement_line_is_deleted(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    assert (await gates(engine, container))["statements"].ok
    await break_in_sql(
        engine,
        "DELETE FROM statement_lines WHERE seq = (SELECT min(seq) FROM statement_lines "
        "WHERE address = 'merchants:m2:NGN:available')",
    )
    results = await gates(engine, container)
    assert only_red(results) == {"statements"}
    [problem] = results["statements"].detail["problems"]
    assert (problem["merchantId"], problem["currency"], problem["walletAccount"]) == (
        "m2",
        "NGN",
        "available",
    )
    assert problem["chainBreaks"] == 1
    assert problem["linesSumMinor"] != problem["ledgerMinor"]


async def test_statements_gate_turns_red_when_a_running_balance_is_tampered_with(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    assert (await gates(engine, container))["statements"].ok
    await break_in_sql(
        engine,
        "UPDATE statement_lines SET balance_before_minor = balance_before_minor + 1, "
        "balance_after_minor = balance_after_minor + 1 WHERE seq = "
        "(SELECT max(seq) FROM statement_lines WHERE address = 'merchants:m1:UGX:available')",
    )
    results = await gates(engine, container)
    [problem] = results["statements"].detail["problems"]
    assert problem["currency"] == "UGX"
    assert problem["lastBalanceMinor"] == problem["ledgerMinor"] + 1


async def test_statements_gate_without_refresh_is_red_while_transactions_are_pending(
    engine: AsyncEngine, container: Container, run: Run
) -> None:
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run("postPayin", merchant_id="m1", currency="NGN", amount="10", provider="sandbox")
    results = await gates(engine, container, refresh_statements=False)
    assert not results["statements"].ok
    assert results["statements"].detail["pendingTransactions"] == 1
    assert (await gates(engine, container))["statements"].ok


async def test_coa_gate_turns_red_when_a_loaded_template_hash_changes(
    engine: AsyncEngine, container: Container, workload: dict[str, Any]
) -> None:
    await break_in_sql(
        engine, "UPDATE loaded_templates SET sha256 = 'tampered' WHERE name = 'payin'"
    )
    results = await gates(engine, container)
    assert only_red(results) == {"coa_templates"}
    assert results["coa_templates"].detail["drift"] == [
        {
            "check": "template_differs",
            "subject": "payin",
            "detail": f"file {container.templates.hashes()['payin']!r} != loaded 'tampered'",
        }
    ]


async def test_coa_gate_turns_red_when_a_template_loses_its_gl_mappings(
    engine: AsyncEngine, container: Container, workload: dict[str, Any], tmp_path: Path
) -> None:
    shutil.copy(default_seeds_dir() / "coa.csv", tmp_path / "coa.csv")
    gl = (default_seeds_dir() / "gl_mappings.csv").read_text().splitlines(keepends=True)
    (tmp_path / "gl_mappings.csv").write_text(
        "".join(line for line in gl if not line.startswith("payout_fee,"))
    )
    results = await gates(engine, container, seeds_dir=tmp_path)
    checks = {(d["check"], d["subject"]) for d in results["coa_templates"].detail["drift"]}
    assert checks == {
        ("gl_template_unmapped", "payout_fee"),
        ("gl_not_in_seeds", "payout_fee/fee_revenue"),
        ("gl_not_in_seeds", "payout_fee/fee_vat"),
    }


async def test_coa_gate_is_red_until_the_coa_and_templates_are_loaded(
    engine: AsyncEngine, container: Container, run: Run
) -> None:
    checks = {d["check"] for d in (await gates(engine, container))["coa_templates"].detail["drift"]}
    assert checks == {"coa_not_loaded", "gl_not_loaded", "template_not_loaded"}
    await run("rebuildTemplates")
    await run("rebuildCoa")
    assert (await gates(engine, container))["coa_templates"].ok


async def test_coa_gate_reports_an_invalid_seed_with_its_location(
    engine: AsyncEngine, container: Container, run: Run, tmp_path: Path
) -> None:
    await run("rebuildTemplates")
    shutil.copy(default_seeds_dir() / "gl_mappings.csv", tmp_path / "gl_mappings.csv")
    coa = (default_seeds_dir() / "coa.csv").read_text()
    (tmp_path / "coa.csv").write_text(coa.replace("1010,Cash", "10x0,Cash"))
    results = await gates(engine, container, seeds_dir=tmp_path)
    [drift] = results["coa_templates"].detail["drift"]
    assert drift["check"] == "seed_invalid"
    assert drift["subject"] == f"{tmp_path / 'coa.csv'}:2"


async def test_gate_detail_lists_are_capped_with_the_full_count_alongside(
    engine: AsyncEngine, container: Container, run: Run
) -> None:
    await break_in_sql(
        engine,
        "INSERT INTO ledger_volumes (account, asset, shard, input, output, may_go_negative) "
        "SELECT 'merchants:mx:NGN:holds:p' || g, 'NGN/2', 0, 1, 0, false "
        "FROM generate_series(1, 60) g",
    )
    results = await gates(engine, container)
    holds = results["holds"].detail
    assert (holds["problemCount"], len(holds["problems"])) == (60, MAX_DETAIL_ITEMS)
    books = results["books_foot"].detail
    assert (books["cacheMismatchCount"], len(books["cacheMismatches"])) == (60, MAX_DETAIL_ITEMS)
    assert books["unbalancedAssets"] == [
        {"asset": "NGN/2", "postingsSumMinor": 0, "volumesSumMinor": 60}
    ]

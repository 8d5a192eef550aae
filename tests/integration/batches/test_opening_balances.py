"""The legacy migration: a dry run validates and totals without writing, bad lines are named and
stop the run before anything is posted, a real run reconciles to the cent, and a re-run after a
crash resumes without doubling."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from walletflow.batches import opening_balances
from walletflow.batches.reconciliation import reconcile
from walletflow.bootstrap import Container
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import holds
from walletflow.domain.principals import SYSTEM_CLI

WALLETS = int(os.environ.get("MIGRATION_TEST_WALLETS", "600"))
HEADER = "merchant_id,currency,available,holds,reserve,as_of,merchant_name\n"


def _book(path: Path, wallets: int) -> dict[str, int]:
    """A legacy file of `wallets` NGN/KES/UGX wallets; the expected total per currency."""
    totals: dict[str, int] = {}
    scale = {"NGN": 100, "KES": 100, "UGX": 1}
    with path.open("w") as handle:
        handle.write(HEADER)
        for n in range(wallets):
            currency = ("NGN", "KES", "UGX")[n % 3]
            available, held, reserve = n * 7 + 1, (n % 5) * 3, (n % 4) * 11
            unit = scale[currency]

            def major(minor: int, unit: int = unit) -> str:
                return f"{minor // unit}.{minor % unit:02d}" if unit == 100 else str(minor)

            handle.write(
                f"lm{n},{currency},{major(available)},{major(held)},{major(reserve)},"
                f"2026-10-31,Legacy merchant {n}\n"
            )
            totals[currency] = totals.get(currency, 0) + available + held + reserve
    return totals


async def _count_migrations(container: Container) -> int:
    async with container.engine.connect() as connection:
        found = await connection.scalar(
            select(func.count()).where(ledger_transactions.c.reference.like("migration:%"))
        )
    return int(found or 0)


async def test_dry_run_totals_every_currency_and_posts_nothing(
    container: Container, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    expected = _book(path, 300)
    plan = opening_balances.plan(path, container.registry.get("migrateWallet"))
    assert plan.error_count == 0 and plan.lines == 300
    assert {ccy: t.total_minor for ccy, t in plan.totals.items()} == expected
    assert await _count_migrations(container) == 0


async def test_a_bad_line_is_named_and_stops_the_run_before_anything_is_posted(
    container: Container, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(
        HEADER
        + "a1,NGN,10.00,0,0,2026-10-31,\n"
        + "a2,NGN,10.001,0,0,2026-10-31,\n"  # wrong scale
        + "a3,XXX,10,0,0,2026-10-31,\n"  # unknown currency
        + "a4,NGN,-5,0,0,2026-10-31,\n"  # negative
        + "a1,NGN,1.00,0,0,2026-10-31,\n"  # the same wallet twice
        + "a5,NGN,1.00,0,0,yesterday,\n"  # not a date
        + "a6,NGN,1.00\n"  # short line
    )
    result = await opening_balances.run(path, container.bus, SYSTEM_CLI)
    assert not result.posted and result.migrated == 0
    wrong_scale = next(e for e in result.plan.errors if e.line == 3)
    assert (wrong_scale.field, wrong_scale.code) == ("available", "FRACTIONAL_MINOR_UNIT")
    assert {e.line for e in result.plan.errors} == {3, 4, 5, 6, 7, 8}
    assert next(e for e in result.plan.errors if e.line == 4).code == "UNKNOWN_CURRENCY"
    assert next(e for e in result.plan.errors if e.line == 6).code == "DUPLICATE_WALLET"
    assert next(e for e in result.plan.errors if e.line == 8).code == "MALFORMED_LINE"
    assert await _count_migrations(container) == 0


async def test_allow_partial_migrates_the_good_lines_and_lists_the_bad(
    container: Container, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(HEADER + "b1,NGN,10.00,1.00,2.00,2026-10-31,\nb2,NGN,abc,0,0,2026-10-31,\n")
    result = await opening_balances.run(path, container.bus, SYSTEM_CLI, allow_partial=True)
    assert result.posted and result.migrated == 1 and result.plan.error_count == 1


async def test_a_real_run_reconciles_to_the_cent_and_a_rerun_doubles_nothing(
    container: Container, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    expected = _book(path, WALLETS)
    started = time.perf_counter()
    first = await opening_balances.run(path, container.bus, SYSTEM_CLI, concurrency=8)
    elapsed = time.perf_counter() - started
    print(f"\nmigrated {WALLETS} wallets in {elapsed:.1f} s ({WALLETS / elapsed:,.0f} wallets/s)")
    assert first.posted and first.migrated == WALLETS and first.failed == 0
    spec = container.registry.get("migrateWallet")
    good = [
        w
        for w in opening_balances.wallet_lines(path, spec)
        if isinstance(w, opening_balances.WalletLine)
    ]
    async with container.engine.connect() as connection:
        report = await reconcile(connection, good)
        legacy_holds = await connection.scalar(
            select(func.count()).where(holds.c.provider == "legacy")
        )
    assert report.balanced, report.to_json()
    assert {c: r.file_minor for c, r in report.currencies.items()} == expected
    assert {c: r.ledger_minor for c, r in report.currencies.items()} == expected
    assert {c: r.wallets_minor for c, r in report.currencies.items()} == expected
    assert legacy_holds == sum(1 for n in range(WALLETS) if n % 5)

    again = await opening_balances.run(path, container.bus, SYSTEM_CLI, concurrency=8)
    assert again.migrated == 0 and again.already_migrated == WALLETS
    assert await _count_migrations(container) == sum(
        1 for n in range(WALLETS) if n * 7 + 1 + (n % 5) * 3 + (n % 4) * 11
    )


async def test_a_changed_line_for_a_migrated_wallet_is_refused_not_doubled(
    container: Container, tmp_path: Path
) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(HEADER + "c1,NGN,10.00,0,0,2026-10-31,\n")
    await opening_balances.run(path, container.bus, SYSTEM_CLI)
    path.write_text(HEADER + "c1,NGN,99.00,0,0,2026-10-31,\n")
    again = await opening_balances.run(path, container.bus, SYSTEM_CLI)
    assert again.failed == 1 and again.errors[0].code == "ALREADY_MIGRATED"
    async with container.engine.connect() as connection:
        report = await reconcile(
            connection,
            [
                w
                for w in opening_balances.wallet_lines(
                    path, container.registry.get("migrateWallet")
                )
                if isinstance(w, opening_balances.WalletLine)
            ],
        )
    assert not report.balanced and report.differences[0].ledger_minor == 1000


@pytest.mark.parametrize("content", ["", "merchant_id,currency\nx,NGN\n"])
def test_a_file_without_the_columns_is_refused_whole(tmp_path: Path, content: str) -> None:
    from walletflow.domain.errors import ValidationError
    from walletflow.service.catalog import build_registry

    path = tmp_path / "legacy.csv"
    path.write_text(content)
    with pytest.raises(ValidationError):
        opening_balances.plan(path, build_registry().get("migrateWallet"))


def test_the_cli_dry_run_prints_totals_and_exits_1_on_a_bad_line(
    tmp_path: Path, database_url: str
) -> None:
    import json
    import subprocess
    import sys

    path = tmp_path / "legacy.csv"
    path.write_text(HEADER + "d1,NGN,1500.25,0,0,2026-10-31,\nd2,NGN,1.001,0,0,2026-10-31,\n")
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "walletflow", "migrate", "opening-balances", str(path), "--dry-run"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    body = json.loads(done.stdout)
    assert body["dryRun"] and body["totals"]["NGN"]["total"] == "1500.25"
    assert body["errors"][0]["line"] == 3 and body["errors"][0]["field"] == "available"

"""`walletflow migrate opening-balances FILE.csv [--dry-run] [--allow-partial]`: the legacy
estate's wallets moved in, once each (see `walletflow.batches.opening_balances`).

Prints JSON: the plan (totals per currency, every bad line with its reason), what was migrated
and, after a real run, the reconciliation per currency. A progress bar (rich) goes to stderr.
Exit codes: 0 done and reconciled; 1 bad lines, failed wallets or a difference; 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from walletflow.batches import opening_balances
from walletflow.config import load_settings
from walletflow.domain.errors import WalletflowError
from walletflow.domain.principals import SYSTEM_CLI
from walletflow.entrypoints.startup import started

DEFAULT_CONCURRENCY = 8


def add_parser(subparsers: Any) -> None:
    migrate = subparsers.add_parser("migrate", help="move wallets in from the legacy estate")
    actions = migrate.add_subparsers(dest="migrate_command", metavar="WHAT", required=True)
    opening = actions.add_parser(
        "opening-balances",
        help="migrate wallets from a CSV (merchant_id,currency,available,holds,reserve,as_of)",
        description=opening_balances.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    opening.add_argument("file", type=Path)
    opening.add_argument(
        "--dry-run", action="store_true", help="validate and total only; post nothing"
    )
    opening.add_argument(
        "--allow-partial",
        action="store_true",
        help="migrate the good lines even if some lines are bad (they are listed)",
    )
    opening.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        choices=range(1, opening_balances.MAX_CONCURRENCY + 1),
        metavar=f"1..{opening_balances.MAX_CONCURRENCY}",
    )
    opening.add_argument("--no-progress", action="store_true", help="no progress bar")
    opening.set_defaults(func=_opening_balances)


def _print(body: Any) -> None:
    print(json.dumps(body, indent=2, default=str))
    sys.stdout.flush()


def _opening_balances(args: argparse.Namespace) -> int:
    try:
        if args.dry_run:
            from walletflow.service.catalog import build_registry

            spec = build_registry().get(opening_balances.COMMAND)
            plan = opening_balances.plan(args.file, spec)
            _print({"dryRun": True, **plan.to_json()})
            return 1 if plan.error_count else 0
        return asyncio.run(_migrate(args))
    except WalletflowError as error:
        _print({"error": error.to_dict()})
        return 1


async def _migrate(args: argparse.Namespace) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from walletflow.batches.reconciliation import reconcile
    from walletflow.views.ledger_backend import require_builtin_ledger

    settings = load_settings()
    require_builtin_ledger(settings.ledger_backend, "the migration's reconciliation")
    async with started(settings, pool_size=args.concurrency + 1) as container:
        spec = container.registry.get(opening_balances.COMMAND)
        plan = opening_balances.plan(args.file, spec)
        bar = Progress(
            TextColumn("migrating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} wallets/s"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            disable=args.no_progress,
            console=None,
            transient=False,
        )
        wallets = sum(totals.wallets for totals in plan.totals.values())
        with bar:
            task = bar.add_task("migrate", total=wallets, rate="-")

            def advance(count: int) -> None:
                bar.advance(task, count)
                speed = bar.tasks[task].speed
                bar.update(task, rate=f"{speed:,.0f}" if speed else "-")

            result = await opening_balances.run(
                args.file,
                container.bus,
                SYSTEM_CLI,
                allow_partial=args.allow_partial,
                concurrency=args.concurrency,
                progress=advance,
                planned=plan,
            )
        body: dict[str, Any] = result.to_json()
        ok = (
            result.posted
            and not result.failed
            and not (result.plan.error_count and not args.allow_partial)
        )
        if result.posted:
            good = [
                line
                for line in opening_balances.wallet_lines(args.file, spec)
                if isinstance(line, opening_balances.WalletLine)
            ]
            async with container.engine.connect() as connection:
                report = await reconcile(connection, good)
            body["reconciliation"] = report.to_json()
            ok = ok and report.balanced
    _print(body)
    return 0 if ok else 1

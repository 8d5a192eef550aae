"""`walletflow recon import FILE --account banks:gtb:NGN [--provider NAME] [--dry-run]`,
`walletflow recon match --account A [--window-days N]`, `walletflow recon exceptions --account A`,
`walletflow recon gate --account A` (exit 1 when red).

Parses the file first (a bad file is refused naming the line or element, nothing imported),
then stores its lines in one transaction with a progress bar on stderr and prints a JSON
summary on stdout. Exit codes: 0 ok; 1 a typed error (printed as {"error": …}).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from walletflow.config import load_settings
from walletflow.domain.errors import WalletflowError
from walletflow.entrypoints.startup import started

SETTLEMENT_MAPPINGS = Path(__file__).resolve().parents[3] / "seeds" / "settlement_mappings.json"


def add_parser(subparsers: Any) -> None:
    recon = subparsers.add_parser("recon", help="reconciliation: import bank/provider statements")
    recon_sub = recon.add_subparsers(dest="recon_command", metavar="ACTION", required=True)
    imp = recon_sub.add_parser(
        "import", help="import a camt.053/camt.054, MT940 or provider settlement CSV file"
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--account", required=True, help="the outside account, e.g. banks:gtb:NGN")
    imp.add_argument("--provider", default=None, help="settlement CSV: the column mapping")
    imp.add_argument("--dry-run", action="store_true", help="count, store nothing")
    imp.add_argument("--actor", default="cli", help="who imports (recorded)")
    imp.set_defaults(func=_import)
    run = recon_sub.add_parser("match", help="run the matching rules on an account's open items")
    run.add_argument("--account", required=True)
    run.add_argument("--window-days", type=int, default=3)
    run.add_argument("--actor", default="cli")
    run.set_defaults(func=_match)
    queue = recon_sub.add_parser("exceptions", help="unmatched statement lines, with age")
    queue.add_argument("--account", required=True)
    queue.add_argument("--limit", type=int, default=100)
    queue.set_defaults(func=_exceptions)
    gate = recon_sub.add_parser("gate", help="ledger balance vs the latest statement closing")
    gate.add_argument("--account", required=True)
    gate.set_defaults(func=_gate)


def _import(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from walletflow.recon.formats import parse_statement
    from walletflow.recon.settlement_csv import load_mappings
    from walletflow.recon.store import import_statement

    try:
        statement = parse_statement(
            args.file.read_bytes(),
            provider=args.provider,
            mappings=load_mappings(SETTLEMENT_MAPPINGS),
        )
    except WalletflowError as error:
        print(json.dumps({"error": error.to_dict()}, indent=2))
        return 1
    settings = load_settings()

    async def run() -> dict[str, Any]:
        async with started(settings) as container:
            with Progress(transient=True, console=Console(stderr=True)) as progress:
                task = progress.add_task("importing", total=len(statement.lines))
                summary = await import_statement(
                    container.engine,
                    statement,
                    account=args.account,
                    actor=args.actor,
                    now=datetime.now(UTC),
                    dry_run=args.dry_run,
                    progress=lambda n: progress.advance(task, n),
                )
            return summary.to_json()

    body = asyncio.run(run())
    print(json.dumps(body, indent=2))
    print(
        f"{body['newLines']} new, {body['duplicateLines']} already imported"
        f"{' (dry run: nothing stored)' if args.dry_run else ''}",
        file=sys.stderr,
    )
    return 0


def _match(args: argparse.Namespace) -> int:
    from walletflow.recon.store import run_matching

    async def run() -> dict[str, Any]:
        async with started(load_settings()) as container:
            summary = await run_matching(
                container.engine,
                account=args.account,
                actor=args.actor,
                now=datetime.now(UTC),
                window_days=args.window_days,
            )
            return summary.to_json()

    print(json.dumps(asyncio.run(run()), indent=2))
    return 0


def _exceptions(args: argparse.Namespace) -> int:
    from walletflow.views.recon import MAX_PAGE, unmatched_lines

    async def run() -> list[dict[str, Any]]:
        async with (
            started(load_settings()) as container,
            container.engine.connect() as connection,
        ):
            rows = await unmatched_lines(
                connection,
                account=args.account,
                on=datetime.now(UTC).date(),
                limit=max(1, min(args.limit, MAX_PAGE)),
            )
        return [
            {
                "lineId": row.line_id,
                "amountMinor": row.signed_minor,
                "currency": row.currency,
                "valueDate": row.value_date.isoformat(),
                "ageDays": row.age_days,
                "reference": row.reference,
                "narrative": row.narrative,
            }
            for row in rows
        ]

    print(json.dumps(asyncio.run(run()), indent=2))
    return 0


def _gate(args: argparse.Namespace) -> int:
    from walletflow.recon.store import account_gate

    async def run() -> dict[str, Any]:
        async with started(load_settings()) as container:
            return (await account_gate(container.engine, account=args.account)).to_json()

    body = asyncio.run(run())
    print(json.dumps(body, indent=2))
    return 0 if body["green"] else 1

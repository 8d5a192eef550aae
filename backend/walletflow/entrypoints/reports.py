"""`walletflow seed demo`, `walletflow coa export|rebuild|drift` and
`walletflow report trial-balance|alm|gates|statements`: JSON on stdout.

Like `walletflow cmd`, each starts up through `entrypoints.startup.started`: the configured
database (an embedded PostgreSQL when DATABASE_URL is unset), migrations, the container.
Rebuilding the COA goes through the command registry (`rebuildCoa`), so it is recorded and
idempotent like any command.
Exit codes: 0 ok; 1 a red gate, drift, or a typed error (printed as {"error": …}).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletflow.config import load_settings
from walletflow.domain.errors import WalletflowError
from walletflow.entrypoints.startup import started

if TYPE_CHECKING:
    from walletflow.bootstrap import Container

ContainerAction = Callable[["Container"], Awaitable[tuple[int, Any]]]


def add_parser(subparsers: Any) -> None:
    seed = subparsers.add_parser("seed", help="demo data: walletflow seed demo")
    seed_sub = seed.add_subparsers(dest="seed_command", metavar="ACTION", required=True)
    seed_sub.add_parser(
        "demo", help="demo merchants, banks, GPS pool and pay-ins (idempotent)"
    ).set_defaults(func=_seed_demo)

    coa = subparsers.add_parser("coa", help="chart of accounts: export, rebuild, drift")
    coa_sub = coa.add_subparsers(dest="coa_command", metavar="ACTION", required=True)
    export = coa_sub.add_parser("export", help="the loaded COA and GL mappings as CSV")
    export.add_argument("--out", type=Path, help="write coa.csv and gl_mappings.csv here")
    export.set_defaults(func=_coa_export)
    rebuild = coa_sub.add_parser("rebuild", help="reload the COA from seeds (rebuildCoa)")
    rebuild.add_argument("--idempotency-key", default=None)
    rebuild.set_defaults(func=_coa_rebuild)
    coa_sub.add_parser("drift", help="drift between seeds, tables and templates").set_defaults(
        func=_coa_drift
    )

    report = subparsers.add_parser("report", help="trial balance, ALM, gates, statements")
    report_sub = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    trial = report_sub.add_parser("trial-balance", help="the trial balance per asset")
    trial.add_argument("--asset", default=None, help="one asset, e.g. NGN/2")
    trial.set_defaults(func=_trial_balance)
    report_sub.add_parser("alm", help="assets vs liabilities by class and currency").set_defaults(
        func=_alm
    )
    report_sub.add_parser("gates", help="the gates, green or red").set_defaults(func=_gates)
    statements = report_sub.add_parser("statements", help="a wallet's statement lines")
    statements.add_argument("merchant_id")
    statements.add_argument("currency")
    statements.add_argument("--cursor", default=None)
    statements.add_argument("--limit", type=int, default=50)
    statements.set_defaults(func=_statements)


def _print(body: Any) -> None:
    print(json.dumps(body, indent=2, default=str))
    sys.stdout.flush()


def _with_container(action: ContainerAction) -> int:
    return asyncio.run(_run_with_container(action))


async def _run_with_container(action: ContainerAction) -> int:
    async with started(load_settings()) as container:
        try:
            code, body = await action(container)
        except WalletflowError as error:
            code, body = 1, {"error": error.to_dict()}
    _print(body)
    return code


def _seed_demo(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.seeds import seed_demo

        return 0, (await seed_demo(container)).to_json()

    return _with_container(action)


def _coa_export(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.coa.store import export_loaded

        async with container.engine.connect() as connection:
            files = await export_loaded(connection)
        if args.out is None:
            return 0, files
        out: Path = args.out
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
        return 0, {"written": [str(out / name) for name in sorted(files)]}

    return _with_container(action)


def _coa_rebuild(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.domain.principals import SYSTEM_CLI

        key = args.idempotency_key or f"cli-rebuild-coa-{uuid.uuid4()}"
        outcome = await container.bus.execute("rebuildCoa", {}, SYSTEM_CLI, key)
        return 0, {"replayed": outcome.replayed, **outcome.result.to_json()}

    return _with_container(action)


def _coa_drift(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.coa.drift import coa_drift

        async with container.engine.connect() as connection:
            drift = await coa_drift(connection, container.templates)
        return (1 if drift else 0), {"drift": [item.to_json() for item in drift]}

    return _with_container(action)


def _trial_balance(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.views.reports import trial_balance
        from walletflow.views.visibility import EVERYTHING

        backend = container.settings.ledger_backend
        async with container.engine.connect() as connection:
            balance = await trial_balance(connection, EVERYTHING, backend, args.asset)
        return 0, balance.to_json()

    return _with_container(action)


def _alm(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.views.reports import alm
        from walletflow.views.visibility import EVERYTHING

        backend = container.settings.ledger_backend
        async with container.engine.connect() as connection:
            view = await alm(connection, EVERYTHING, backend)
        return 0, view.to_json()

    return _with_container(action)


def _gates(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.views.reports import run_gates
        from walletflow.views.visibility import EVERYTHING

        backend = container.settings.ledger_backend
        async with container.engine.begin() as connection:
            results = await run_gates(
                connection,
                EVERYTHING,
                backend,
                container.templates,
                suspense_max_age_days=container.settings.suspense_max_age_days,
            )
        ok = all(result.ok for result in results)
        return (0 if ok else 1), {"ok": ok, "gates": [result.to_json() for result in results]}

    return _with_container(action)


def _statements(args: argparse.Namespace) -> int:
    async def action(container: Container) -> tuple[int, Any]:
        from walletflow.views.reports import statement_lines
        from walletflow.views.visibility import EVERYTHING

        backend = container.settings.ledger_backend
        async with container.engine.connect() as connection:
            page = await statement_lines(
                connection,
                EVERYTHING,
                backend,
                args.merchant_id,
                args.currency,
                args.cursor,
                args.limit,
            )
        return 0, page.to_json()

    return _with_container(action)

"""The `walletflow` command: one entry point for every process and operator tool.

Each sub-command module of `walletflow.entrypoints` exposes `add_parser(subparsers)`; handlers
take the parsed namespace and return an exit code. Each starts up through
`entrypoints.startup`. A configuration error prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from walletflow import __version__
from walletflow.config import ConfigError, load_log_settings
from walletflow.entrypoints import (
    apikeys,
    backup,
    cmd,
    db_commands,
    graphql_schema,
    jobs,
    ledger,
    migrate,
    numscript,
    outbox,
    processes,
    recon,
    reports,
    sandbox_provider,
)

SUBCOMMANDS: tuple[ModuleType, ...] = (
    processes,
    db_commands,
    sandbox_provider,
    numscript,
    graphql_schema,
    apikeys,
    outbox,
    jobs,
    cmd,
    ledger,
    reports,
    backup,
    migrate,
    recon,
)
"""The sub-command modules, in the order `walletflow --help` lists them."""

EXIT_CONFIG_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="walletflow",
        description="walletflow: the core wallet — ledger, commands, API, workers, dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"walletflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from walletflow.observability.logging import configure_logging

    try:
        configure_logging(*load_log_settings())
    except ConfigError as error:
        print(f"walletflow: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0 if args.command is None else EXIT_CONFIG_ERROR
    try:
        return int(args.func(args))
    except ConfigError as error:
        print(f"walletflow: configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except KeyboardInterrupt:
        return 130


def run() -> None:
    sys.exit(main())

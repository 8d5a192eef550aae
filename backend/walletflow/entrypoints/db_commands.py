"""`walletflow db upgrade|current`: apply or inspect the schema migrations."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from walletflow.config import load_settings
from walletflow.entrypoints.startup import services


def add_parser(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema: upgrade, current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade_parser = db_sub.add_parser("upgrade", help="apply all migrations (idempotent)")
    upgrade_parser.set_defaults(func=_upgrade)
    current_parser = db_sub.add_parser("current", help="print the applied and the head revision")
    current_parser.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from walletflow.db.migrate import head_revision

    with services(load_settings()):
        print(f"database at revision {head_revision()}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from walletflow.db.migrate import current_revision, head_revision

    with services(load_settings(), migrate=False) as urls:
        applied = asyncio.run(current_revision(urls.database_url))
        print(f"applied: {applied or '(none)'}  head: {head_revision()}")
    return 0

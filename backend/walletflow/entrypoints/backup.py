"""`walletflow backup create|verify|restore`: dumps with a manifest, proven on restore.

JSON on stdout. Exit 0 when everything passed; 1 when a check failed (the report's `failed`
names each, and so does one line on stderr) or the backup was refused (`{"error": …}`: a
damaged dump or manifest, a non-empty target, no pg_dump/pg_restore of the server's version).
The source of `create` (and the default target of `restore`) is DATABASE_URL, or the embedded
PostgreSQL when it is unset (then also started for a `--database-url` naming a database on it).
See `walletflow.ops.backup` and the README's runbook.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from walletflow.config import load_settings
from walletflow.domain.errors import Unavailable, WalletflowError
from walletflow.embedded import embedded_services

EXIT_OK = 0
EXIT_FAILED = 1


def add_parser(subparsers: Any) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="backups: create, verify, restore (pg_dump custom format + a manifest)",
        description="Back up the database with a manifest; verify a backup; restore one into "
        "an empty database and prove it intact (manifest, ledger verify, gates).",
    )
    sub = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)

    create = sub.add_parser(
        "create",
        help="dump the database (one consistent snapshot) and write DUMP.manifest.json",
    )
    create.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the dump file, or a directory for walletflow-<UTC time>.dump (default: here)",
    )
    create.set_defaults(func=_create)

    verify = sub.add_parser(
        "verify",
        help="check a dump against its manifest (and optionally a database against both)",
    )
    verify.add_argument("dump", type=Path, metavar="DUMP")
    verify.add_argument("--manifest", type=Path, default=None, help="default DUMP.manifest.json")
    verify.add_argument(
        "--database-url",
        default=None,
        help="also compare this database with the manifest, verify its ledger, run the gates",
    )
    verify.add_argument(
        "--allow-newer",
        action="store_true",
        help="the database may have moved on (point-in-time recovery, the live database): "
        "it must still hold the backup's chain head and at least its ledger rows",
    )
    verify.set_defaults(func=_verify)

    restore = sub.add_parser(
        "restore",
        help="restore into an EMPTY database, then manifest + ledger verify + gates must pass",
    )
    restore.add_argument("dump", type=Path, metavar="DUMP")
    restore.add_argument("--manifest", type=Path, default=None, help="default DUMP.manifest.json")
    restore.add_argument(
        "--database-url", default=None, help="the target (default DATABASE_URL / embedded)"
    )
    restore.add_argument(
        "--create", action="store_true", help="create the target database first (must not exist)"
    )
    restore.set_defaults(func=_restore)


def _emit(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=True, default=str))
    sys.stdout.flush()


def _run(
    work: Callable[[str], Coroutine[Any, Any, dict[str, Any]]], *, configured_database: bool
) -> int:
    """Run `work(URL)` — the configured database's URL (starting the embedded server when
    DATABASE_URL is unset) if `configured_database`, else "" — print its document, and map
    refusals and failed checks to exit 1."""
    settings = load_settings()
    try:
        if configured_database:
            with embedded_services(settings.data_dir, settings.database_url, "unused://") as (
                url,
                _,
            ):
                document = asyncio.run(work(url))
        else:
            document = asyncio.run(work(""))
    except WalletflowError as error:
        _emit({"error": error.to_dict()})
        print(f"walletflow: backup refused: {error.code}: {error.message}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        _emit({"error": Unavailable(f"database unreachable: {error}").to_dict()})
        return EXIT_FAILED
    _emit(document)
    if document.get("ok") is False:
        print(
            f"walletflow: backup {document.get('action')} failed: "
            + ", ".join(document.get("failed", [])),
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _dump_path(out: Path | None) -> Path:
    name = f"walletflow-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.dump"
    if out is None:
        return Path.cwd() / name
    return out / name if out.is_dir() else out


def _create(args: argparse.Namespace) -> int:
    async def work(url: str) -> dict[str, Any]:
        from walletflow.ops.backup import create_backup
        from walletflow.ops.manifest import manifest_path_for

        dump_path = _dump_path(args.out)
        manifest = await create_backup(url, dump_path)
        return {
            "action": "create",
            "ok": True,
            "dump": str(dump_path),
            "manifest": str(manifest_path_for(dump_path)),
            **manifest.to_json(),
        }

    return _run(work, configured_database=True)


def _verify(args: argparse.Namespace) -> int:
    async def work(url: str) -> dict[str, Any]:
        from walletflow.ops.backup import verify_backup

        report = await verify_backup(
            args.dump,
            manifest_path=args.manifest,
            database_url=args.database_url,
            allow_newer=args.allow_newer,
        )
        return report.to_json()

    # With a database to check, start the embedded server when DATABASE_URL is unset: the URL
    # may name a database on it.
    return _run(work, configured_database=args.database_url is not None)


def _restore(args: argparse.Namespace) -> int:
    async def work(url: str) -> dict[str, Any]:
        from walletflow.ops.backup import restore_backup

        report = await restore_backup(
            args.dump,
            args.database_url or url,
            manifest_path=args.manifest,
            create=args.create,
        )
        return report.to_json()

    return _run(work, configured_database=True)

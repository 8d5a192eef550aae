"""`walletflow ledger post|revert|balances|tx|verify`: the ledger from a terminal, JSON out.

Success prints a JSON document and exits 0; a typed error prints `{"error": {code, message,
details}}` and exits 1. The database is DATABASE_URL, or the embedded PostgreSQL by default;
LEDGER_BACKEND=formance points `post`, `revert`, `balances` and `tx` at Formance instead
(`container.ledger`); `verify` always checks the built-in ledger's chain in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walletflow.config import load_settings
from walletflow.domain.errors import Unavailable, ValidationError, WalletflowError
from walletflow.entrypoints.startup import started
from walletflow.ledger.port import Posting, PostRequest

if TYPE_CHECKING:
    from walletflow.bootstrap import Container

EXIT_OK = 0
EXIT_FAILED = 1


def add_parser(subparsers: Any) -> None:
    ledger = subparsers.add_parser(
        "ledger",
        help="the ledger: post, revert, balances, tx, verify",
        description="Post to and read the ledger; verify its hash chain. Output is JSON.",
    )
    sub = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)

    post = sub.add_parser(
        "post",
        help="post a transaction (postings JSON, or a Numscript file and its variables)",
        description="Post postings or a Numscript script. Amounts are integer minor units.",
    )
    source = post.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--postings",
        metavar="JSON",
        help='[{"source":"world","destination":"merchants:m1:NGN:available",'
        '"amount":100,"asset":"NGN/2"}]',
    )
    source.add_argument("--script", metavar="FILE", type=Path, help="a Numscript file")
    post.add_argument("--vars", metavar="JSON", default="{}", help="script variables (strings)")
    post.add_argument("--reference", help="unique transaction reference")
    post.add_argument("--idempotency-key", help="replays with the same key return the original")
    post.add_argument("--metadata", metavar="JSON", default="{}", help="transaction metadata")
    post.add_argument("--effective-at", metavar="ISO8601", help="when the transaction counts")
    post.add_argument("--dry-run", action="store_true", help="compute, write nothing")
    post.set_defaults(func=_post)

    revert = sub.add_parser("revert", help="revert a transaction (post its mirror)")
    revert.add_argument("tx_id", type=int, metavar="ID")
    revert.add_argument("--idempotency-key")
    revert.add_argument("--metadata", metavar="JSON", default="{}")
    revert.set_defaults(func=_revert)

    balances = sub.add_parser("balances", help="balances of accounts or of a prefix")
    target = balances.add_mutually_exclusive_group(required=True)
    target.add_argument("--account", action="append", help="an account (repeatable)")
    target.add_argument("--prefix", help='an address prefix, e.g. "merchants:m1:"')
    balances.add_argument("--asset", help="only this asset, e.g. NGN/2")
    balances.add_argument("--at", metavar="ISO8601", help="as recorded at this time")
    balances.add_argument("--effective-at", metavar="ISO8601", help="as of this effective date")
    balances.set_defaults(func=_balances)

    tx = sub.add_parser("tx", help="one transaction by id")
    tx.add_argument("tx_id", type=int, metavar="ID")
    tx.set_defaults(func=_tx)

    verify = sub.add_parser(
        "verify",
        help="seal new transactions, then walk the hash chain and name the first broken link",
        description="Exit 0 when the chain is intact and volumes equal postings, else 1.",
    )
    verify.add_argument("--no-seal", action="store_true", help="verify only, seal nothing")
    verify.set_defaults(func=_verify)


def _json_arg(raw: str, name: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValidationError(
            f"--{name} is not JSON: {error}", field_errors={name: "JSON"}
        ) from None


def _time_arg(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"--{name} is not an ISO-8601 time", field_errors={name: "ISO-8601"}
        ) from None


def _strings(value: Any, name: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValidationError(
            f"--{name} must be an object of strings", field_errors={name: "object of strings"}
        )
    return {str(k): v for k, v in value.items()}


def _emit(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=True, default=str))


def _run(work: Callable[[Container], Awaitable[Any]]) -> int:
    """Run `work` on the container (`container.ledger` is the configured backend); print its
    JSON document, or the typed error."""
    settings = load_settings()

    async def run() -> Any:
        async with started(settings, migrate=False) as container:
            return await work(container)

    try:
        document = asyncio.run(run())
    except WalletflowError as error:
        _emit({"error": error.to_dict()})
        return EXIT_FAILED
    except OSError as error:
        _emit({"error": Unavailable(f"database unreachable: {error}").to_dict()})
        return EXIT_FAILED
    _emit(document)
    if isinstance(document, dict) and document.get("ok") is False:
        return EXIT_FAILED
    return EXIT_OK


def _post(args: argparse.Namespace) -> int:
    async def work(container: Container) -> Any:
        if args.postings is not None:
            raw = _json_arg(args.postings, "postings")
            if not isinstance(raw, list):
                raise ValidationError(
                    "--postings is a JSON list", field_errors={"postings": "list"}
                )
            postings = tuple(Posting.from_json(p) for p in raw)
            script = None
        else:
            postings = ()
            try:
                script = args.script.read_text()
            except OSError as error:
                raise ValidationError(
                    f"cannot read {args.script}: {error.strerror}", field_errors={"script": "file"}
                ) from None
        request = PostRequest(
            postings=postings,
            script=script,
            variables=_strings(_json_arg(args.vars, "vars"), "vars"),
            reference=args.reference,
            idempotency_key=args.idempotency_key,
            metadata=_strings(_json_arg(args.metadata, "metadata"), "metadata"),
            effective_at=_time_arg(args.effective_at, "effective-at"),
            dry_run=args.dry_run,
        )
        return (await container.ledger.post(request)).to_json()

    return _run(work)


def _revert(args: argparse.Namespace) -> int:
    async def work(container: Container) -> Any:
        metadata = _strings(_json_arg(args.metadata, "metadata"), "metadata")
        result = await container.ledger.revert(
            args.tx_id, idempotency_key=args.idempotency_key, metadata=metadata
        )
        return result.to_json()

    return _run(work)


def _balances(args: argparse.Namespace) -> int:
    async def work(container: Container) -> Any:
        return await container.ledger.balances(
            accounts=args.account,
            prefix=args.prefix,
            asset=args.asset,
            at=_time_arg(args.at, "at"),
            effective_at=_time_arg(args.effective_at, "effective-at"),
        )

    return _run(work)


def _tx(args: argparse.Namespace) -> int:
    async def work(container: Container) -> Any:
        return (await container.ledger.get_transaction(args.tx_id)).to_json()

    return _run(work)


def _verify(args: argparse.Namespace) -> int:
    async def work(container: Container) -> Any:
        chain = container.hash_chain
        sealed = 0 if args.no_seal else await chain.seal()
        report = await chain.verify()
        return {"sealedNow": sealed, **report.to_json()}

    return _run(work)

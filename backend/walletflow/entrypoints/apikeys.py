"""`walletflow apikey create|revoke|list`: admin tooling for merchant and analyst API keys.

`create` prints the token once (`wf_<id>_<secret>`); only its hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from walletflow.config import load_settings
from walletflow.domain.errors import WalletflowError
from walletflow.entrypoints.startup import started

if TYPE_CHECKING:
    from walletflow.bootstrap import Container

MAX_TTL_DAYS = 3650
EXIT_REFUSED = 1


def add_parser(subparsers: Any) -> None:
    apikey = subparsers.add_parser("apikey", help="API keys for merchants and analysts")
    sub = apikey.add_subparsers(dest="apikey_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", help="create a key and print its token once")
    create.add_argument("--role", choices=["merchant", "analyst"], required=True)
    create.add_argument("--merchant", help="the merchant id a merchant key is scoped to")
    create.add_argument("--label", default="", help="a note: who or what uses the key")
    create.add_argument("--ttl-days", type=int, help=f"expire after N days (1..{MAX_TTL_DAYS})")
    create.set_defaults(func=_create)
    revoke = sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=_revoke)
    listing = sub.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(func=_list)


def _run(work: Callable[[Container], Awaitable[None]]) -> int:
    async def run() -> None:
        async with started(load_settings(), migrate=False) as container:
            await work(container)

    try:
        asyncio.run(run())
    except WalletflowError as error:
        print(json.dumps({"error": error.to_dict()}))
        return EXIT_REFUSED
    return 0


def _create(args: argparse.Namespace) -> int:
    from walletflow.api.auth.api_keys import ApiKeyRole, create_api_key

    now = datetime.now(UTC)
    expires_at = None
    if args.ttl_days is not None:
        if not 1 <= args.ttl_days <= MAX_TTL_DAYS:
            print(f"--ttl-days must be between 1 and {MAX_TTL_DAYS}")
            return EXIT_REFUSED
        expires_at = now + timedelta(days=args.ttl_days)

    async def work(container: Container) -> None:
        async with container.engine.begin() as connection:
            created = await create_api_key(
                connection,
                role=ApiKeyRole(args.role),
                merchant_id=args.merchant,
                label=args.label,
                created_by="cli",
                now=now,
                expires_at=expires_at,
            )
        print(json.dumps({"keyId": created.key.key_id, "token": created.token}))

    return _run(work)


def _revoke(args: argparse.Namespace) -> int:
    from walletflow.api.auth.api_keys import revoke_api_key

    async def work(container: Container) -> None:
        async with container.engine.begin() as connection:
            key = await revoke_api_key(connection, args.key_id, datetime.now(UTC))
        revoked = key.revoked_at.isoformat() if key.revoked_at else None
        print(json.dumps({"keyId": key.key_id, "revokedAt": revoked}))

    return _run(work)


def _list(args: argparse.Namespace) -> int:
    from walletflow.api.auth.api_keys import list_api_keys

    async def work(container: Container) -> None:
        async with container.engine.connect() as connection:
            keys = await list_api_keys(connection)
        for key in keys:
            print(
                json.dumps(
                    {
                        "keyId": key.key_id,
                        "role": key.role.value,
                        "merchantId": key.merchant_id,
                        "label": key.label,
                        "createdAt": key.created_at.isoformat(),
                        "expiresAt": key.expires_at.isoformat() if key.expires_at else None,
                        "revokedAt": key.revoked_at.isoformat() if key.revoked_at else None,
                    }
                )
            )

    return _run(work)

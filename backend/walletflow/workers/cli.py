"""`walletflow outbox status|redeliver`: the outbox's health, and sending an event again."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from walletflow.config import load_settings
from walletflow.embedded import embedded_services

EXIT_NOT_FOUND = 1


def add_parser(subparsers: Any) -> None:
    outbox = subparsers.add_parser(
        "outbox", help="outbox relay: status (pending, age, dead letters), redeliver an event"
    )
    actions = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status", help='print {"pending", "oldestAgeS", "deadLettered", "sagas"} as JSON'
    )
    status.set_defaults(func=_status)
    redeliver = actions.add_parser(
        "redeliver",
        help="send EVENT_ID again: restart its merchant webhooks (dead letters included) and "
        "relay it to the stream again (consumers deduplicate by event id)",
    )
    redeliver.add_argument("event_id", metavar="EVENT_ID")
    redeliver.add_argument(
        "--webhooks-only", action="store_true", help="do not relay it to the Redis stream again"
    )
    redeliver.set_defaults(func=_redeliver)


def _status(args: argparse.Namespace) -> int:
    from walletflow.db.engine import create_engine
    from walletflow.workers.outbox_relay import outbox_status
    from walletflow.workers.payout_saga import saga_counts

    async def read(url: str) -> dict[str, Any]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as connection:
                status = await outbox_status(connection)
                sagas = await saga_counts(connection)
        finally:
            await engine.dispose()
        return {**status.to_json(), "sagas": sagas}

    settings = load_settings()
    with embedded_services(settings.data_dir, settings.database_url, "unused://") as (url, _):
        print(json.dumps(asyncio.run(read(url)), sort_keys=True))
    return 0


def _redeliver(args: argparse.Namespace) -> int:
    from walletflow.db.engine import create_engine
    from walletflow.domain.errors import NotFound
    from walletflow.workers.webhooks import redeliver

    async def run(url: str) -> dict[str, Any]:
        engine = create_engine(url, pool_size=1)
        try:
            report = await redeliver(engine, args.event_id, stream=not args.webhooks_only)
        finally:
            await engine.dispose()
        return report.to_json()

    settings = load_settings()
    with embedded_services(settings.data_dir, settings.database_url, "unused://") as (url, _):
        try:
            print(json.dumps(asyncio.run(run(url)), sort_keys=True))
        except NotFound as error:
            print(json.dumps({"error": error.to_dict()}, sort_keys=True))
            return EXIT_NOT_FOUND
    return 0

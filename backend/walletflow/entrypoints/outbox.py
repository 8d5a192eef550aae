"""`walletflow outbox status|redeliver`: the outbox's health, and sending an event again."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from walletflow.config import load_settings
from walletflow.entrypoints.startup import started

if TYPE_CHECKING:
    from walletflow.bootstrap import Container

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


async def _with_container(work: Callable[[Container], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    async with started(load_settings(), migrate=False) as container:
        return await work(container)


def _status(args: argparse.Namespace) -> int:
    from walletflow.views.outbox import outbox_status
    from walletflow.workers.payout_saga import saga_counts

    async def read(container: Container) -> dict[str, Any]:
        async with container.engine.connect() as connection:
            status = await outbox_status(connection)
            sagas = await saga_counts(connection)
        return {**status.to_json(), "sagas": sagas}

    print(json.dumps(asyncio.run(_with_container(read)), sort_keys=True))
    return 0


def _redeliver(args: argparse.Namespace) -> int:
    from walletflow.domain.errors import NotFound
    from walletflow.workers.webhooks import redeliver

    async def run(container: Container) -> dict[str, Any]:
        report = await redeliver(container.engine, args.event_id, stream=not args.webhooks_only)
        return report.to_json()

    try:
        print(json.dumps(asyncio.run(_with_container(run)), sort_keys=True))
    except NotFound as error:
        print(json.dumps({"error": error.to_dict()}, sort_keys=True))
        return EXIT_NOT_FOUND
    return 0

"""A real process that posts through the group-committing ledger until it is killed.

    python -m tests.support.group_commit_writer DATABASE_URL CONCURRENCY

Each post moves 1 from `world` to one of 20 merchants, with reference `crash-<n>`; after its
answer the process prints `ack <reference> <tx id>` (flushed), so the killer knows what was
acknowledged before the kill.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

from walletflow.db.engine import create_engine
from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.port import Posting, PostRequest


async def main(database_url: str, concurrency: int) -> None:
    engine = create_engine(database_url)
    ledger = PostgresLedger(engine, group_commit=(16, 0.001, 2))
    numbers = itertools.count()

    async def writer() -> None:
        while True:
            n = next(numbers)
            reference = f"crash-{n}"
            account = f"merchants:crash{n % 20}:NGN:available"
            result = await ledger.post(
                PostRequest(postings=(Posting("world", account, 1, "NGN/2"),), reference=reference)
            )
            sys.stdout.write(f"ack {reference} {result.transaction.id}\n")
            sys.stdout.flush()

    await asyncio.gather(*(writer() for _ in range(concurrency)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

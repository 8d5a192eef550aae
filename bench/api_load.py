"""Load generator for the running walletflow API: GraphQL postPayin with unique idempotency
keys over many merchants, plus a read mix; prints throughput, p50/p95/p99 and errors.

    RATE_LIMIT_REQUESTS_PER_MIN=0 RATE_LIMIT_MONEY_PER_MIN=0 \
    walletflow serve --workers 2 &      # the API under test, rate limits off (AUTH_TOKEN optional)
    python bench/api_load.py --url http://127.0.0.1:8000 --duration 20 --concurrency 32

Traffic goes to loopback only (the URL must be 127.0.0.1 / localhost / ::1); every loop is
bounded by --duration. Numbers are for the machine it runs on; they are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import os
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_DURATION_S = 600
MAX_CONCURRENCY = 512

PAYIN = """
mutation Payin($k: String!, $i: PostPayinInput!) {
  postPayin(idempotencyKey: $k, input: $i) {
    __typename
    ... on CommandSuccess { transactionId }
    ... on Error { code }
  }
}
"""
CREATE_WALLET = """
mutation Wallet($k: String!, $i: CreateWalletInput!) {
  createWallet(idempotencyKey: $k, input: $i) { __typename ... on Error { code } }
}
"""
READ_WALLETS = """
query Wallets($m: String!) {
  wallets(merchantId: $m, first: 5) {
    edges { node { currency balances { available { amountMinor } } } }
  }
}
"""


@dataclass
class Stats:
    payin_latencies_s: list[float] = field(default_factory=list)
    read_latencies_s: list[float] = field(default_factory=list)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, object]
) -> dict[str, object]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        return {"__error": f"HTTP_{response.status_code}"}
    body = response.json()
    if body.get("errors"):
        code = body["errors"][0].get("extensions", {}).get("code", "GRAPHQL_ERROR")
        return {"__error": code}
    return dict(body["data"])


async def set_up(client: httpx.AsyncClient, merchants: list[str], run_id: str) -> None:
    for merchant in merchants:
        data = await graphql(
            client,
            CREATE_WALLET,
            {
                "k": f"bench-{run_id}-wallet-{merchant}",
                "i": {"merchantId": merchant, "currency": "NGN"},
            },
        )
        assert "__error" not in data, data


async def run_worker(
    client: httpx.AsyncClient,
    merchants: list[str],
    keys: itertools.count[int],
    deadline: float,
    read_every: int,
    run_id: str,
    stats: Stats,
) -> None:
    while time.perf_counter() < deadline:
        n = next(keys)
        merchant = merchants[n % len(merchants)]
        started = time.perf_counter()
        if read_every and n % read_every == 0:
            data = await graphql(client, READ_WALLETS, {"m": merchant})
            stats.read_latencies_s.append(time.perf_counter() - started)
        else:
            data = await graphql(
                client,
                PAYIN,
                {
                    "k": f"bench-{run_id}-{n}",
                    "i": {
                        "merchantId": merchant,
                        "currency": "NGN",
                        "amount": "1075.00",
                        "fee": "50.00",
                        "vat": "25.00",
                        "provider": "sandbox",
                    },
                },
            )
            stats.payin_latencies_s.append(time.perf_counter() - started)
            payin = data.get("postPayin")
            if isinstance(payin, dict) and payin.get("__typename") != "CommandSuccess":
                stats.errors[str(payin.get("code"))] += 1
        if "__error" in data:
            stats.errors[str(data["__error"])] += 1


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--merchants", type=int, default=200)
    parser.add_argument(
        "--read-every", type=int, default=10, help="every Nth request is a read (0: pay-ins only)"
    )
    parser.add_argument("--token", default=os.environ.get("AUTH_TOKEN"))
    args = parser.parse_args()
    host = urlparse(args.url).hostname
    if host not in LOOPBACK_HOSTS:
        raise SystemExit(f"refusing to load {host!r}: loopback targets only")
    assert 0 < args.duration <= MAX_DURATION_S and 0 < args.concurrency <= MAX_CONCURRENCY

    run_id = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    merchants = [f"bench{i}" for i in range(args.merchants)]
    async with httpx.AsyncClient(
        base_url=args.url, headers=headers, limits=limits, timeout=30.0
    ) as client:
        await set_up(client, merchants, run_id)
        stats = Stats()
        keys = itertools.count()
        started = time.perf_counter()
        deadline = started + args.duration
        await asyncio.gather(
            *(
                run_worker(client, merchants, keys, deadline, args.read_every, run_id, stats)
                for _ in range(args.concurrency)
            )
        )
        elapsed_s = time.perf_counter() - started

    payins = stats.payin_latencies_s
    reads = stats.read_latencies_s
    print(
        f"api_load: url={args.url} duration={elapsed_s:.1f}s concurrency={args.concurrency} "
        f"merchants={args.merchants} read_every={args.read_every}"
    )
    print(
        f"  pay-ins: {len(payins)} ({len(payins) / elapsed_s:.0f}/s)  "
        f"p50={percentile(payins, 0.50) * 1000:.1f}ms p95={percentile(payins, 0.95) * 1000:.1f}ms "
        f"p99={percentile(payins, 0.99) * 1000:.1f}ms"
    )
    if reads:
        print(
            f"  reads:   {len(reads)} ({len(reads) / elapsed_s:.0f}/s)  "
            f"p50={percentile(reads, 0.50) * 1000:.1f}ms p99={percentile(reads, 0.99) * 1000:.1f}ms"
        )
    print(f"  errors:  {sum(stats.errors.values())} {dict(stats.errors)}")


if __name__ == "__main__":
    asyncio.run(main())

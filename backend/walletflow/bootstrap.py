"""The composition root: settings → engines → adapters → app. Nothing connects at import time.

Every entry point (API, worker, CLI, tests) builds its dependencies here and nowhere else, so
that choosing the Postgres ledger or the Formance adapter, or a test double, happens in one place.
The start-up sequence around it (settings → embedded services → migrate → engine → container)
is `walletflow.entrypoints.startup`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, cast

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.config import LedgerBackend, Settings
from walletflow.db.engine import create_engine
from walletflow.ledger.pg import PostgresLedger, VerifyReport
from walletflow.ledger.port import LedgerPort
from walletflow.ledger.templates import TemplateCatalog
from walletflow.observability.metrics import observe_command
from walletflow.observability.tracing import TracedLedger, tracing_enabled
from walletflow.providers.config import providers_file, rail_currencies
from walletflow.providers.registry import ProviderRegistry
from walletflow.service.bus import CommandBus
from walletflow.service.catalog import build_registry
from walletflow.service.clock import Clock, SystemClock
from walletflow.service.rails import PayoutRails
from walletflow.service.registry import Registry
from walletflow.service.unit_of_work import LedgerFactory, ServicePolicy, UnitOfWork
from walletflow.workers.config import WorkerConfig
from walletflow.workers.payout_saga import PayoutSagaRunner, check_lease_covers_calls

REDIS_SOCKET_TIMEOUT_S = 5.0


@dataclass
class Resources:
    """The process's long-lived connections, opened by a lifespan and closed by it."""

    settings: Settings
    database_url: str
    redis_url: str
    engine: AsyncEngine
    redis: Redis

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()


def open_resources(settings: Settings, database_url: str, redis_url: str) -> Resources:
    """Create the engine and Redis client (both connect lazily, on first use)."""
    engine = create_engine(database_url)
    redis = Redis.from_url(
        redis_url,
        socket_timeout=REDIS_SOCKET_TIMEOUT_S,
        socket_connect_timeout=REDIS_SOCKET_TIMEOUT_S,
        decode_responses=False,
    )
    return Resources(
        settings=settings,
        database_url=database_url,
        redis_url=redis_url,
        engine=engine,
        redis=redis,
    )


class HashChain(Protocol):
    """The built-in ledger's tamper-evident log: `seal` appends what has committed since the
    last seal (one sealer at a time; 0 when another holds the lock), `verify` re-hashes it."""

    async def seal(self) -> int: ...

    async def verify(self) -> VerifyReport: ...


@dataclass
class Container:
    """Everything an entry point needs to run commands and answer reads."""

    settings: Settings
    engine: AsyncEngine
    ledger: LedgerPort
    """The standalone ledger, for reads outside a unit of work."""
    registry: Registry
    bus: CommandBus
    templates: TemplateCatalog
    clock: Clock
    policy: ServicePolicy
    hash_chain: HashChain
    """The built-in ledger's hash chain in this database; `walletflow ledger verify` checks it
    whatever the backend."""
    sealer: HashChain | None
    """Who appends to that chain: the built-in ledger when it is the configured backend; None
    under Formance, whose own log is not ours to seal."""
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """What `aclose` closes: the adapters built here (not the engine, which the caller owns)."""

    async def aclose(self) -> None:
        for close in reversed(self.closers):
            await close()


def build_container(
    settings: Settings,
    engine: AsyncEngine,
    *,
    clock: Clock | None = None,
    templates: TemplateCatalog | None = None,
    rails: PayoutRails | None = None,
) -> Container:
    """Wire the ledger backend, the unit of work and the command bus. `rails`: the payout rails
    payouts may name (default: those of the providers file)."""
    clock = clock or SystemClock()
    templates = templates or TemplateCatalog()
    policy = ServicePolicy(
        flag_mode=settings.core_wallet_flag_mode,
        completion_gating=settings.core_wallet_completion_gating,
        payout_rails=rails or PayoutRails.of(rail_currencies(providers_file())),
    )
    ledger_factory: LedgerFactory
    ledger: LedgerPort
    postgres = PostgresLedger(engine)
    sealer: HashChain | None
    closers: list[Callable[[], Awaitable[None]]] = []
    if settings.ledger_backend is LedgerBackend.FORMANCE:
        from walletflow.ledger.formance import FormanceLedger

        assert settings.formance_url is not None
        formance = FormanceLedger(settings.formance_url, settings.formance_ledger)
        ledger = formance
        sealer = None
        closers.append(formance.aclose)

        def ledger_factory(connection: AsyncConnection) -> LedgerPort:
            # Formance is its own database: its writes are made safe to retry by the same
            # reference and idempotency key, not by sharing this transaction.
            return formance

    else:
        ledger = postgres
        sealer = postgres

        def ledger_factory(connection: AsyncConnection) -> LedgerPort:
            return postgres.bound(connection)

    if tracing_enabled():
        untraced_factory = ledger_factory

        def ledger_factory(connection: AsyncConnection) -> LedgerPort:
            return cast(LedgerPort, TracedLedger(untraced_factory(connection)))

    registry = build_registry()

    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(engine, ledger_factory, clock, policy, templates)

    return Container(
        settings=settings,
        engine=engine,
        ledger=ledger,
        registry=registry,
        bus=CommandBus(registry, unit_of_work, observer=observe_command),
        templates=templates,
        clock=clock,
        policy=policy,
        hash_chain=postgres,
        sealer=sealer,
        closers=closers,
    )


@dataclass
class WorkerResources:
    """What one `walletflow worker` process holds between arq's on_startup and on_shutdown."""

    config: WorkerConfig
    engine: AsyncEngine
    container: Container
    providers: ProviderRegistry
    http: httpx.AsyncClient
    """For merchant webhooks (the provider rails share the registry's own client)."""
    saga: PayoutSagaRunner
    owner: str
    """This process's name in leases: host:pid:random."""

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.providers.aclose()
        await self.container.aclose()
        await self.engine.dispose()


def open_worker(settings: Settings, config: WorkerConfig, database_url: str) -> WorkerResources:
    """Wire a worker: engine, container, provider rails and the payout saga runner. Refuses a
    saga lease too short to cover a provider call (`check_lease_covers_calls`)."""
    engine = create_engine(database_url)
    providers = ProviderRegistry.from_file(config.providers_file)
    container = build_container(settings, engine, rails=PayoutRails.of(providers.rails()))
    check_lease_covers_calls(
        config.saga, {name: providers.config(name).timeout_s for name in providers.names()}
    )
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    saga = PayoutSagaRunner(
        engine,
        container.bus,
        providers,
        config.saga,
        owner,
        callback_base_url=config.callback_base_url,
    )
    return WorkerResources(
        config=config,
        engine=engine,
        container=container,
        providers=providers,
        http=httpx.AsyncClient(),
        saga=saga,
        owner=owner,
    )

"""The composition root: settings → engines → adapters → app. Nothing connects at import time.

Every entry point (API, worker, CLI, tests) builds its dependencies here and nowhere else, so
that choosing the Postgres ledger or the Formance adapter, or a test double, happens in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.config import LedgerBackend, Settings
from walletflow.db.engine import create_engine
from walletflow.ledger.port import LedgerPort
from walletflow.ledger.postgres import PostgresLedger
from walletflow.observability.metrics import observe_command
from walletflow.observability.tracing import TracedLedger, tracing_enabled
from walletflow.service.bus import CommandBus
from walletflow.service.catalog import build_registry
from walletflow.service.clock import Clock, SystemClock
from walletflow.service.registry import Registry
from walletflow.service.templates import TemplateCatalog
from walletflow.service.unit_of_work import LedgerFactory, ServicePolicy, UnitOfWork

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


def build_container(
    settings: Settings,
    engine: AsyncEngine,
    *,
    clock: Clock | None = None,
    templates: TemplateCatalog | None = None,
) -> Container:
    """Wire the ledger backend, the unit of work and the command bus."""
    clock = clock or SystemClock()
    templates = templates or TemplateCatalog()
    policy = ServicePolicy(
        flag_mode=settings.core_wallet_flag_mode,
        completion_gating=settings.core_wallet_completion_gating,
    )
    ledger_factory: LedgerFactory
    ledger: LedgerPort
    if settings.ledger_backend is LedgerBackend.FORMANCE:
        from walletflow.ledger.formance import FormanceLedger

        assert settings.formance_url is not None
        formance = FormanceLedger(settings.formance_url, settings.formance_ledger)
        ledger = formance

        def ledger_factory(connection: AsyncConnection) -> LedgerPort:
            # Formance is its own database: its writes are made safe to retry by the same
            # reference and idempotency key, not by sharing this transaction.
            return formance

    else:
        postgres = PostgresLedger(engine)
        ledger = postgres

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
    )

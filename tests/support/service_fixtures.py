"""Service fixtures (a pytest plugin, registered in tests/conftest.py): a container wired on this
test's own database, and a helper that runs registry commands."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.bootstrap import Container, build_container
from walletflow.config import load_settings
from walletflow.domain.principals import SYSTEM_CLI, Principal
from walletflow.service.clock import ManualClock
from walletflow.service.results import CommandOutcome

Run = Callable[..., Awaitable[CommandOutcome]]
_keys = itertools.count()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings_env() -> dict[str, str]:
    """Override in a test module to change flag mode or completion gating."""
    return {}


@pytest.fixture
def container(engine: AsyncEngine, clock: ManualClock, settings_env: dict[str, str]) -> Container:
    return build_container(load_settings(settings_env), engine, clock=clock)


@pytest.fixture
def run(container: Container) -> Run:
    """Run a command as `principal` (default: an operator via the CLI) with a fresh key."""

    async def _run(
        name: str,
        principal: Principal = SYSTEM_CLI,
        key: str | None = None,
        **raw: Any,
    ) -> CommandOutcome:
        return await container.bus.execute(name, raw, principal, key or f"test-key-{next(_keys)}")

    return _run


@pytest.fixture
async def funded_merchant(run: Run) -> str:
    """Merchant m1 with an NGN wallet holding NGN 1,000.00 net from a pay-in."""
    await run("createWallet", merchant_id="m1", currency="NGN")
    await run(
        "postPayin",
        merchant_id="m1",
        currency="NGN",
        amount="1075.00",
        fee="50.00",
        vat="25.00",
        provider="sandbox",
        provider_reference="seed-1",
    )
    return "m1"

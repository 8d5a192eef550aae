"""Ledger fixtures: the Postgres ledger on the test's database, and the Formance adapter on the
fake Formance v2 server (in process, through httpx's ASGI transport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.fake_formance import create_app
from walletflow.ledger.formance import FormanceLedger
from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.port import LedgerPort

TEMPLATES = Path(__file__).resolve().parents[3] / "numscript"
FAKE_FORMANCE_URL = "http://formance.test"


def template(name: str) -> str:
    return (TEMPLATES / f"{name}.num").read_text()


@pytest.fixture
def postgres_ledger(engine: AsyncEngine) -> PostgresLedger:
    return PostgresLedger(engine)


@pytest.fixture
def grouped_ledger(engine: AsyncEngine) -> PostgresLedger:
    """The Postgres ledger with group commit: one-statement posts go through batches."""
    return PostgresLedger(engine, group_commit=(64, 0.0, 2))


@pytest.fixture
async def formance_ledger() -> AsyncIterator[FormanceLedger]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url=FAKE_FORMANCE_URL) as client:
        yield FormanceLedger(FAKE_FORMANCE_URL, "walletflow", client=client)


@pytest.fixture(params=["postgres", "grouped", "formance"])
def ledger(request: pytest.FixtureRequest) -> LedgerPort:
    """The same contract, run against each implementation of the port."""
    name: str = request.param
    implementation: LedgerPort = request.getfixturevalue(f"{name}_ledger")
    return implementation

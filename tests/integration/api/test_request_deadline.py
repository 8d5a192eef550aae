"""A request past GRAPHQL_TIMEOUT_S is stopped and answered REQUEST_TIMEOUT (retryable: a
mutation may be sent again with the same key), and the API serves the next request normally.
The slow request is made slow by a lock another session holds, not by a clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import text

from tests.integration.api.conftest import Api
from walletflow.db.engine import create_engine


@pytest.fixture
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    return {**api_env, "GRAPHQL_TIMEOUT_S": "1"}


@pytest.fixture
async def locked_wallets(database_url: str) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Hold an exclusive lock on `wallets` in another session until released."""
    engine = create_engine(database_url, pool_size=1)
    connection = await engine.connect()
    transaction = await connection.begin()
    await connection.execute(text("LOCK TABLE wallets IN ACCESS EXCLUSIVE MODE"))

    async def release() -> None:
        if transaction.is_active:
            await transaction.rollback()

    try:
        yield release
    finally:
        await release()
        await connection.close()
        await engine.dispose()


async def test_a_request_past_its_deadline_is_stopped_typed_and_the_api_carries_on(
    api: Api, locked_wallets: Callable[[], Awaitable[None]]
) -> None:
    blocked = await api.graphql("{ wallets { nodes { merchantId } } }")
    assert blocked.status_code == 200, blocked.text
    refusal = blocked.json()["errors"][0]["extensions"]
    assert refusal["code"] == "REQUEST_TIMEOUT" and refusal["retryable"] is True, blocked.text
    await locked_wallets()
    after = await api.data("{ wallets { nodes { merchantId } } }")
    assert after["wallets"]["nodes"] == []
    created = await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    assert created["__typename"] == "CommandSuccess"

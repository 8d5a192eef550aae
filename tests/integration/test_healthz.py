"""/healthz reports the database (reachable and migrated), Redis and the version."""

from __future__ import annotations

import httpx

from walletflow import __version__
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.db.migrate import head_revision


async def _get_health(database_url: str, redis_url: str) -> httpx.Response:
    app = create_app(load_settings({}), database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/healthz")


async def test_healthz_is_ok_on_a_migrated_database_and_live_redis(
    database_url: str, redis_url: str
) -> None:
    response = await _get_health(database_url, redis_url)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["database"]["ok"] is True
    assert body["database"]["schema_revision"] == head_revision()
    assert body["redis"]["ok"] is True


async def test_healthz_is_503_when_redis_is_unreachable(database_url: str) -> None:
    response = await _get_health(database_url, "redis://127.0.0.1:1/0")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["redis"]["ok"] is False
    assert body["database"]["ok"] is True

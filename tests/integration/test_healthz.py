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


async def _get(database_url: str, redis_url: str, path: str) -> httpx.Response:
    app = create_app(load_settings({}), database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)


async def test_livez_and_readyz_are_ok_on_a_migrated_database_and_live_redis(
    database_url: str, redis_url: str
) -> None:
    live = await _get(database_url, redis_url, "/livez")
    ready = await _get(database_url, redis_url, "/readyz")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["database"]["schema_revision"] == head_revision()


async def test_without_redis_the_api_is_live_but_not_ready(database_url: str) -> None:
    live = await _get(database_url, "redis://127.0.0.1:1/0", "/livez")
    ready = await _get(database_url, "redis://127.0.0.1:1/0", "/readyz")
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert ready.json()["redis"]["ok"] is False and ready.json()["database"]["ok"] is True


async def test_an_unmigrated_database_is_not_ready(pg_server_url: str, redis_url: str) -> None:
    from tests.support.databases import drop_database

    empty = await _create_empty_database(pg_server_url)
    try:
        live = await _get(empty, redis_url, "/livez")
        ready = await _get(empty, redis_url, "/readyz")
    finally:
        await drop_database(pg_server_url, empty)
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["database"]["ok"] is False


async def _create_empty_database(server_url: str) -> str:
    import uuid

    import asyncpg

    from walletflow.db.engine import plain_url, with_database

    name = f"wf_empty_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain_url(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(server_url, name)

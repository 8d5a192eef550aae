"""`/healthz`: is the database reachable and migrated, is Redis reachable, which version runs."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from walletflow import __version__
from walletflow.bootstrap import Resources
from walletflow.db.migrate import head_revision
from walletflow.workers.heartbeat import WORKER_HEARTBEAT_KEY

CHECK_TIMEOUT_S = 3.0


async def healthz(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    database, redis = await asyncio.gather(_check_database(resources), _check_redis(resources))
    healthy = database["ok"] and redis["ok"]
    body = {
        "status": "ok" if healthy else "unhealthy",
        "version": __version__,
        "database": database,
        "redis": redis,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def _check_database(resources: Resources) -> dict[str, object]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S), resources.engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            applied = ",".join(sorted(str(row[0]) for row in rows))
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    head = head_revision()
    return {
        "ok": applied == head,
        "schema_revision": applied,
        "schema_head": head,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }


async def _check_redis(resources: Resources) -> dict[str, object]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await resources.redis.ping()
            heartbeat = await resources.redis.get(WORKER_HEARTBEAT_KEY)
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    return {
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "worker_heartbeat_at": heartbeat.decode() if heartbeat else None,
    }

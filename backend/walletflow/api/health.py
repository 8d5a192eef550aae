"""Probes. `/healthz`: is the database reachable and migrated, is Redis reachable, which version
runs (a report for people). `/livez`: the process is up and its event loop answers — it reads
nothing, so a database outage never gets a healthy API restarted. `/readyz`: this process can
serve — the database is reachable and at the schema head, Redis answers; 503 otherwise, so a
load balancer stops sending it traffic until it can."""

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


async def livez(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    database, redis = await asyncio.gather(_check_database(resources), _check_redis(resources))
    ready = bool(database["ok"] and redis["ok"])
    body = {
        "status": "ready" if ready else "not_ready",
        "database": {
            key: database[key]
            for key in ("ok", "error", "schema_revision", "schema_head")
            if key in database
        },
        "redis": {key: redis[key] for key in ("ok", "error") if key in redis},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


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

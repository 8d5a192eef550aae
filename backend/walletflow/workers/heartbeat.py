"""The worker's liveness mark in Redis, read by /healthz."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

WORKER_HEARTBEAT_KEY = "walletflow:worker:heartbeat"
WORKER_HEARTBEAT_TTL_S = 120


async def record_heartbeat(ctx: dict[str, Any]) -> str:
    """arq cron job: stamp the time; the key expires if no worker is alive to renew it."""
    stamp = datetime.now(UTC).isoformat()
    await ctx["redis"].set(WORKER_HEARTBEAT_KEY, stamp, ex=WORKER_HEARTBEAT_TTL_S)
    return stamp

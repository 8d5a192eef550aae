"""Headless smoke test of the Reflex ops dashboard: it serves, talks to its backend over the
event websocket, and reaches nothing beyond itself (no CDN, no fonts from elsewhere)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import screenshot_path

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


async def test_dashboard_serves_sign_in_and_stays_local(new_page: Any, dashboard_url: str) -> None:
    outside_requests: list[str] = []
    websockets: list[str] = []
    page = await new_page()
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
    assert await page.title() == "walletflow ops"
    # Signed out: only the sign-in page.
    await page.locator("#sign-in-secret").wait_for()
    assert await page.locator("#nav-overview").count() == 0

    # The frontend talks to the backend over the event websocket.
    deadline = time.monotonic() + 15
    while not websockets and time.monotonic() < deadline:
        await page.wait_for_timeout(200)
    assert any("/_event" in u for u in websockets), websockets

    await page.screenshot(path=screenshot_path("dashboard_smoke"), full_page=True)
    # Nothing on the page may reach beyond the dashboard itself (no CDN fonts etc.).
    assert outside_requests == [], outside_requests

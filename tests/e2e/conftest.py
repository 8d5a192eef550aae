"""Browser-test fixtures: ONE API + worker + dashboard per session, on a database of their own,
and one headless Chromium (Debian's, driven by Playwright); each test gets a fresh browser
context (a fresh dashboard session)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from tests.e2e import stack
from tests.support.databases import clone_database, drop_database

E2E_REDIS_DB = 11
VIEWPORT = {"width": 1280, "height": 900}
UI_TIMEOUT_MS = 20_000

SignIn = Callable[..., Awaitable[Any]]


@pytest.fixture(scope="session")
def e2e_toolchain() -> None:
    stack.require_toolchain()


@pytest.fixture(scope="session")
async def e2e_database_url(
    e2e_toolchain: None, pg_server_url: str, template_database: str
) -> AsyncIterator[str]:
    url = await clone_database(pg_server_url, template_database)
    yield url
    await drop_database(pg_server_url, url)


@pytest.fixture(scope="session")
def e2e_redis_url(redis_url: str) -> str:
    """The test Redis, on a database of its own (the event stream is shared by every reader),
    emptied first: no event stream or arq queue left over from an earlier session."""
    from redis import Redis

    url = urlunparse(urlparse(redis_url)._replace(path=f"/{E2E_REDIS_DB}"))
    client = Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def api(e2e_database_url: str, e2e_redis_url: str) -> Iterator[stack.Api]:
    """The real API and a worker (its outbox relay feeds the subscriptions)."""
    port = stack.free_port()
    env = stack.api_env(port, e2e_database_url, e2e_redis_url)
    serve = stack.start([str(stack.WALLETFLOW), "serve"], env, stack.ROOT, "api.log")
    with stack.running(serve):
        url = f"http://127.0.0.1:{port}"
        stack.wait_until_up(serve, f"{url}/healthz", "api.log", stack.API_STARTUP_TIMEOUT_S)
        worker = stack.start([str(stack.WALLETFLOW), "worker"], env, stack.ROOT, "worker.log")
        with stack.running(worker):
            yield stack.Api(url)


@pytest.fixture(scope="session")
def dashboard_url(api: stack.Api) -> Iterator[str]:
    """The dashboard, built once for the session (`reflex run --env prod`, one port)."""
    port = stack.free_port()
    proc = stack.start(
        [str(stack.REFLEX), "run", "--env", "prod", "--loglevel", "info"],
        stack.dashboard_env(port, api.url),
        stack.DASHBOARD_DIR,
        "dashboard.log",
    )
    with stack.running(proc):
        url = f"http://127.0.0.1:{port}"
        stack.wait_until_up(proc, f"{url}/ping", "dashboard.log")
        stack.wait_until_up(proc, f"{url}/", "dashboard.log")
        yield url


@pytest.fixture(scope="session")
async def browser(e2e_toolchain: None) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(stack.CHROMIUM), headless=True, args=stack.CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_page(browser: Any, dashboard_url: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """Open pages in fresh browser contexts (each its own dashboard session)."""
    contexts: list[Any] = []

    async def _open() -> Any:
        context = await browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return await context.new_page()

    yield _open
    for context in contexts:
        await context.close()


@pytest.fixture
def sign_in(new_page: Callable[[], Awaitable[Any]], dashboard_url: str) -> SignIn:
    """A page signed in with `secret` (the operator token by default), on the Overview."""

    async def _sign_in(secret: str = stack.AUTH_TOKEN) -> Any:
        page = await new_page()
        await page.goto(dashboard_url, wait_until="networkidle")
        await page.locator("#sign-in-secret").fill(secret)
        await page.locator("#sign-in-submit").click()
        await page.locator("#page-title").wait_for()
        # The Overview's loaders ran (signing in redirects there).
        await page.locator('#shell[data-loaded="/"]').wait_for()
        return page

    return _sign_in


def screenshot_path(name: str) -> str:
    stack.OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return str(stack.OUTPUT_DIR / f"{name}.png")

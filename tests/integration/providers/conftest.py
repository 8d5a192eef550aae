"""Real HTTP peers for the rail tests: the sandbox rail under uvicorn, a webhook receiver and a
misbehaving rail, each on its own free port in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from walletflow.providers.config import ProviderConfig
from walletflow.providers.http_rail import HttpRailProvider
from walletflow.providers.sandbox import SandboxSettings, create_sandbox_app
from walletflow.providers.serving import serve_in_thread

SECRET = "integration-test-secret-0123456789"
PROVIDER_NAME = "sandbox"
CLIENT_TIMEOUT_S = 0.5
WAIT_STEP_S = 0.02
CURRENCIES = frozenset({"NGN", "KES", "GHS", "UGX", "USD"})


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A tiny Starlette app that records every POST; `refuse_next` answers 503 that many times."""

    url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    refuse_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.refuse_next = 0

    def snapshot(self) -> list[ReceivedWebhook]:
        with self.lock:
            return list(self.received)

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedWebhook]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            received = self.snapshot()
            if len(received) >= count:
                return received
            await asyncio.sleep(WAIT_STEP_S)
        raise AssertionError(f"expected {count} webhooks, got {len(self.snapshot())}")

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            body = await request.body()
            with self.lock:
                self.received.append(ReceivedWebhook(request.url.path, dict(request.headers), body))
                if self.refuse_next > 0:
                    self.refuse_next -= 1
                    return PlainTextResponse("busy", status_code=503)
            return PlainTextResponse("ok")

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    webhook_receiver = WebhookReceiver()
    with serve_in_thread(webhook_receiver.app()) as url:
        webhook_receiver.url = url
        yield webhook_receiver


@pytest.fixture(scope="module")
def sandbox_server(receiver: WebhookReceiver) -> Iterator[str]:
    settings = SandboxSettings(
        name=PROVIDER_NAME, secret=SECRET, webhook_url=receiver.url, callback_attempts=3
    )
    with serve_in_thread(create_sandbox_app(settings)) as url:
        yield url


@pytest.fixture
async def sandbox(sandbox_server: str, receiver: WebhookReceiver) -> str:
    """The sandbox's base URL, reset to an empty state with the default script `succeed`."""
    receiver.reset()
    async with httpx.AsyncClient(base_url=sandbox_server) as client:
        (await client.post("/_reset")).raise_for_status()
    return sandbox_server


def rail_config(base_url: str, secret: str = SECRET) -> ProviderConfig:
    return ProviderConfig(
        name=PROVIDER_NAME,
        base_url=base_url,
        secret=secret,
        timeout_s=CLIENT_TIMEOUT_S,
        currencies=CURRENCIES,
    )


@pytest.fixture
async def rail(sandbox: str) -> AsyncIterator[HttpRailProvider]:
    async with HttpRailProvider(rail_config(sandbox)) as provider:
        yield provider


@pytest.fixture
async def control(sandbox: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the sandbox's control endpoints (`/_scripts`, `/_stats`, …)."""
    async with httpx.AsyncClient(base_url=sandbox) as client:
        yield client


def _misbehaving_app() -> Starlette:
    """A rail that answers 2xx with bodies that cannot be trusted, chosen by payout id."""

    async def answer(request: Request) -> Response:
        payout_id = request.path_params.get("payout_id", "")
        if payout_id == "po_not_json" or request.method == "POST":
            return PlainTextResponse("<html>gateway says hi</html>")
        if payout_id == "po_weird_status":
            return JSONResponse({"payout_id": payout_id, "status": "processing-ish"})
        if payout_id == "po_other_id":
            return JSONResponse({"payout_id": "po_someone_else", "status": "succeeded"})
        if payout_id == "po_forbidden":
            return JSONResponse({"error": "bad credentials"}, status_code=403)
        return JSONResponse(["not", "an", "object"])

    return Starlette(
        routes=[
            Route("/payouts", answer, methods=["POST"]),
            Route("/payouts/{payout_id}", answer, methods=["GET"]),
        ]
    )


@pytest.fixture(scope="module")
def misbehaving_rail_url() -> Iterator[str]:
    with serve_in_thread(_misbehaving_app()) as url:
        yield url

"""The sandbox's `callback_later` and `/_payins` deliver correctly signed webhooks to a real
receiver, with bounded retries; the receiver's side verifies them with `signing.verify`."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.integration.providers.conftest import (
    PROVIDER_NAME,
    SECRET,
    WebhookReceiver,
)
from tests.integration.providers.test_http_rail_against_sandbox import payout, script
from walletflow.domain.errors import InvalidSignature, StaleSignature
from walletflow.providers.events import ProviderEventType, parse_provider_event
from walletflow.providers.http_rail import HttpRailProvider
from walletflow.providers.port import OutcomeStatus
from walletflow.providers.signing import SIGNATURE_HEADER, verify

HEADER_KEY = SIGNATURE_HEADER.lower()


async def test_callback_later_delivers_a_signed_payout_succeeded_webhook(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await script(control, "po_1", behaviour="callback_later", delay_s=0.2)
    submitted = await rail.submit_payout(payout())
    assert submitted.status is OutcomeStatus.PENDING

    [webhook] = await receiver.wait_for(1)
    assert webhook.path == f"/webhooks/{PROVIDER_NAME}"
    verify(SECRET, webhook.body, webhook.headers[HEADER_KEY], time.time())
    event = parse_provider_event(webhook.body)
    assert event.event_type is ProviderEventType.PAYOUT_SUCCEEDED
    assert event.payout_id == "po_1"
    assert event.provider_reference == submitted.provider_reference
    assert (event.asset, event.amount_minor, event.merchant_id) == ("NGN/2", 150_000, "m1")
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.SUCCEEDED


async def test_callback_later_failure_sends_payout_failed_with_the_reason(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await script(
        control,
        "po_1",
        behaviour="callback_later",
        delay_s=0.1,
        outcome="failed",
        reason="beneficiary bank offline",
    )
    await rail.submit_payout(payout())
    [webhook] = await receiver.wait_for(1)
    event = parse_provider_event(webhook.body)
    assert event.event_type is ProviderEventType.PAYOUT_FAILED
    assert event.reason == "beneficiary bank offline"
    queried = await rail.query_payout("po_1")
    assert queried.status is OutcomeStatus.FAILED
    assert queried.reason == "beneficiary bank offline"


async def test_query_before_the_callback_is_pending(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await script(control, "po_1", behaviour="callback_later", delay_s=1.0)
    await rail.submit_payout(payout())
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.PENDING
    await receiver.wait_for(1)


async def test_webhook_is_retried_until_the_receiver_accepts_with_the_same_event_id(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    receiver.refuse_next = 2
    await script(control, "po_1", behaviour="callback_later", delay_s=0.0)
    await rail.submit_payout(payout())
    attempts = await receiver.wait_for(3)
    assert len({parse_provider_event(a.body).event_id for a in attempts}) == 1
    detail = (await control.get("/_payouts/po_1")).json()
    assert detail["callback"]["attempts"] == 3
    assert detail["callback"]["delivered"] is True


async def test_webhook_retries_are_bounded(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    receiver.refuse_next = 100
    await script(control, "po_1", behaviour="callback_later", delay_s=0.0)
    await rail.submit_payout(payout())
    await receiver.wait_for(3)
    figures: dict[str, Any] = {}
    for _ in range(100):
        figures = (await control.get("/_stats")).json()
        if figures["pending_callbacks"] == 0:
            break
        await asyncio.sleep(0.05)
    [delivery] = figures["deliveries"]
    assert delivery["attempts"] == 3
    assert delivery["delivered"] is False
    assert len(receiver.snapshot()) == 3


async def test_callback_url_of_the_request_overrides_the_configured_target(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await script(control, "po_1", behaviour="callback_later", delay_s=0.0)
    await rail.submit_payout(payout(callback_url=f"{receiver.url}/hooks/custom"))
    [webhook] = await receiver.wait_for(1)
    assert webhook.path == "/hooks/custom"


async def test_payin_trigger_sends_a_signed_payin_received_webhook(
    control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    body = {
        "merchant_id": "m7",
        "asset": "KES/2",
        "amount_minor": 50_000,
        "fee_minor": 500,
        "vat_minor": 80,
    }
    response = await control.post("/_payins", json=body)
    assert response.status_code == 200
    assert response.json()["delivery"]["delivered"] is True
    [webhook] = receiver.snapshot()
    verify(SECRET, webhook.body, webhook.headers[HEADER_KEY], time.time())
    event = parse_provider_event(webhook.body)
    assert event.event_type is ProviderEventType.PAYIN_RECEIVED
    assert (event.merchant_id, event.amount_minor, event.fee_minor, event.vat_minor) == (
        "m7",
        50_000,
        500,
        80,
    )


async def test_delivered_webhook_is_refused_when_replayed_later_or_tampered(
    rail: HttpRailProvider, control: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    await script(control, "po_1", behaviour="callback_later", delay_s=0.0)
    await rail.submit_payout(payout())
    [webhook] = await receiver.wait_for(1)
    header = webhook.headers[HEADER_KEY]
    with pytest.raises(StaleSignature):
        verify(SECRET, webhook.body, header, time.time() + 301)
    tampered = webhook.body.replace(b"150000", b"950000")
    assert tampered != webhook.body
    with pytest.raises(InvalidSignature):
        verify(SECRET, tampered, header, time.time())
    with pytest.raises(InvalidSignature):
        verify("some-other-providers-secret", webhook.body, header, time.time())

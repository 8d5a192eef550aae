"""The console's operations reads: command counts, the provider-event log, the access lists."""

from __future__ import annotations

import json
import time

from tests.integration.api.conftest import Api
from walletflow.providers.signing import SIGNATURE_HEADER, sign

STATS = "{ commandStats { posted failed } }"


async def test_command_stats_count_completed_and_failed_commands(keyed_api: Api) -> None:
    """A command refused by its handler (after boundary validation) is logged as failed; an
    input refused at the boundary never reached a unit of work and is not."""
    before = (await keyed_api.data(STATS))["commandStats"]
    await keyed_api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    same_merchant = await keyed_api.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m1", "currency": "NGN", "amount": "1"},
    )
    assert same_merchant["__typename"] == "ValidationError"
    missing = await keyed_api.mutate(
        "postPayin",
        {"merchantId": "ghost", "currency": "NGN", "amount": "1", "provider": "sandbox"},
    )
    assert missing["code"] == "NOT_FOUND"
    bad_currency = await keyed_api.mutate(
        "postPayin", {"merchantId": "m1", "currency": "XXX", "amount": "1", "provider": "sandbox"}
    )
    assert bad_currency["code"] == "UNKNOWN_CURRENCY"
    after = (await keyed_api.data(STATS))["commandStats"]
    assert after["posted"] == before["posted"] + 1
    assert after["failed"] == before["failed"] + 2


async def test_command_stats_are_for_staff_and_analysts_only(keyed_api: Api) -> None:
    body = (await keyed_api.graphql(STATS, who="m1")).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await keyed_api.data(STATS, who="analyst"))["commandStats"]["posted"] >= 0


async def test_provider_events_list_each_fact_once_with_its_delivery_count(keyed_api: Api) -> None:
    await keyed_api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    secret = keyed_api.state.providers.config("sandbox").secret
    body = json.dumps(
        {
            "event_id": "evt-1",
            "type": "payin.received",
            "provider_reference": "psp-1",
            "merchant_id": "m1",
            "asset": "NGN/2",
            "amount_minor": 5000,
            "occurred_at": "2026-11-28T09:00:00+00:00",
        }
    ).encode()
    for _ in range(3):
        now = int(time.time())
        response = await keyed_api.client.post(
            "/webhooks/sandbox",
            content=body,
            headers={SIGNATURE_HEADER: sign(secret, body, now), "content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
    events = (
        await keyed_api.data(
            "{ providerEvents { provider providerReference eventType status deliveries } }"
        )
    )["providerEvents"]
    assert events == [
        {
            "provider": "sandbox",
            "providerReference": "psp-1",
            "eventType": "payin.received",
            "status": "processed",
            "deliveries": 3,
        }
    ]


async def test_access_lists_show_what_is_in_force_to_admins_only(keyed_api: Api) -> None:
    query = "{ accessLists { allowedEmails adminEmails source } }"
    assert (await keyed_api.data(query))["accessLists"]["source"] == "settings"
    saved = await keyed_api.mutate(
        "saveAccessLists", {"allowedEmails": ["ops@example.com"], "adminEmails": []}
    )
    assert saved["__typename"] == "CommandSuccess"
    lists = (await keyed_api.data(query))["accessLists"]
    assert lists == {"allowedEmails": ["ops@example.com"], "adminEmails": [], "source": "database"}
    body = (await keyed_api.graphql(query, who="analyst")).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

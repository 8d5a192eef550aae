"""POST /webhooks/{provider}: signed, fresh events run their command once; anything else is
refused before a single row is written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.integration.api.conftest import Api
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.db.schema_service import command_log, provider_events
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.providers.signing import SIGNATURE_HEADER, sign

SECRET = "sandbox-dev-secret-not-for-production"


def payin_event(reference: str = "payin-ref-1") -> bytes:
    return ProviderEvent(
        event_id=f"evt-{reference}",
        event_type=ProviderEventType.PAYIN_RECEIVED,
        provider_reference=reference,
        asset="NGN/2",
        amount_minor=10_000,
        occurred_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        merchant_id="m1",
        fee_minor=100,
        vat_minor=50,
    ).to_bytes()


async def _counts(api: Api) -> tuple[int, int, int]:
    async with api.state.container.engine.connect() as connection:
        events = (
            await connection.execute(select(func.count()).select_from(provider_events))
        ).scalar_one()
        txs = (
            await connection.execute(select(func.count()).select_from(ledger_transactions))
        ).scalar_one()
        logs = (
            await connection.execute(select(func.count()).select_from(command_log))
        ).scalar_one()
    return int(events), int(txs), int(logs)


async def _post(api: Api, provider: str, body: bytes, signature: str | None) -> dict[str, object]:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    response = await api.client.post(f"/webhooks/{provider}", content=body, headers=headers)
    return {**response.json(), "http": response.status_code}


async def test_a_valid_signature_runs_the_command_once_and_replays_the_answer(api: Api) -> None:
    await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    body = payin_event()
    now = int(api.clock.now().timestamp())
    first = await _post(api, "sandbox", body, sign(SECRET, body, now))
    assert first["http"] == 200, first
    assert first["http"] == 200 and first["replayed"] is False
    again = await _post(api, "sandbox", body, sign(SECRET, body, now))
    assert again["replayed"] is True
    assert again["result"] == first["result"]
    events, txs, _ = await _counts(api)
    assert (events, txs) == (1, 1)


async def test_forged_signature_is_401_and_writes_nothing(api: Api) -> None:
    before = await _counts(api)
    body = payin_event()
    now = int(api.clock.now().timestamp())
    forged = await _post(api, "sandbox", body, sign("not-the-secret", body, now))
    assert forged["http"] == 401
    assert forged["error"]["code"] == "INVALID_SIGNATURE"  # type: ignore[index]
    missing = await _post(api, "sandbox", body, None)
    assert missing["http"] == 401
    tampered = await _post(
        api, "sandbox", body.replace(b"10000", b"99999"), sign(SECRET, body, now)
    )
    assert tampered["http"] == 401
    assert await _counts(api) == before


async def test_stale_signature_is_401_and_writes_nothing(api: Api) -> None:
    before = await _counts(api)
    body = payin_event()
    an_hour_ago = int(api.clock.now().timestamp()) - 3600
    stale = await _post(api, "sandbox", body, sign(SECRET, body, an_hour_ago))
    assert stale["http"] == 401
    assert stale["error"]["code"] == "STALE_SIGNATURE"  # type: ignore[index]
    assert await _counts(api) == before


async def test_unknown_provider_is_404(api: Api) -> None:
    body = payin_event()
    unknown = await _post(api, "nobody", body, sign(SECRET, body, int(api.clock.now().timestamp())))
    assert unknown["http"] == 404
    assert unknown["error"]["code"] == "UNKNOWN_PROVIDER"  # type: ignore[index]


async def test_a_signed_but_malformed_event_is_422(api: Api) -> None:
    body = b'{"type": "payin.received"}'
    bad = await _post(api, "sandbox", body, sign(SECRET, body, int(api.clock.now().timestamp())))
    assert bad["http"] == 422
    assert await _counts(api) == (0, 0, 0)

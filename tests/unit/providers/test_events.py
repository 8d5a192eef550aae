"""Provider webhook bodies: parsed into `ProviderEvent`, or refused with field errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from walletflow.domain.errors import ValidationError
from walletflow.providers.events import ProviderEventType, parse_provider_event

PAYOUT_EVENT: dict[str, Any] = {
    "event_id": "evt_1",
    "type": "payout.succeeded",
    "provider_reference": "sbx_abc",
    "payout_id": "po_1",
    "asset": "NGN/2",
    "amount_minor": 150_000,
    "occurred_at": "2026-11-28T05:00:00Z",
}
PAYIN_EVENT: dict[str, Any] = {
    "event_id": "evt_2",
    "type": "payin.received",
    "provider_reference": "sbx_pay_1",
    "merchant_id": "m1",
    "asset": "UGX",
    "amount_minor": 50_000,
    "fee_minor": 500,
    "vat_minor": 90,
    "occurred_at": "2026-11-28T06:00:00+01:00",
}


def body(base: dict[str, Any], **changes: Any) -> bytes:
    data = {**base, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}).encode()


def field_errors(raw: bytes) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        parse_provider_event(raw)
    return raised.value.field_errors


def test_payout_succeeded_event_parses() -> None:
    event = parse_provider_event(body(PAYOUT_EVENT))
    assert event.event_type is ProviderEventType.PAYOUT_SUCCEEDED
    assert (event.event_id, event.payout_id, event.provider_reference) == (
        "evt_1",
        "po_1",
        "sbx_abc",
    )
    assert event.amount_minor == 150_000
    assert event.occurred_at == datetime(2026, 11, 28, 5, tzinfo=UTC)


def test_payout_failed_event_keeps_its_reason() -> None:
    event = parse_provider_event(body(PAYOUT_EVENT, type="payout.failed", reason="closed"))
    assert event.event_type is ProviderEventType.PAYOUT_FAILED
    assert event.reason == "closed"


def test_payin_event_parses_with_fee_and_vat() -> None:
    event = parse_provider_event(body(PAYIN_EVENT))
    assert event.event_type is ProviderEventType.PAYIN_RECEIVED
    assert (event.merchant_id, event.fee_minor, event.vat_minor) == ("m1", 500, 90)
    assert event.payout_id is None


def test_event_round_trips_through_its_json_form() -> None:
    event = parse_provider_event(body(PAYIN_EVENT))
    assert parse_provider_event(event.to_bytes()) == event


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_body_that_is_not_a_json_object_is_refused(raw: bytes) -> None:
    assert "body" in field_errors(raw)


@pytest.mark.parametrize(
    "missing", ["event_id", "type", "provider_reference", "asset", "amount_minor", "occurred_at"]
)
def test_missing_required_field_is_named(missing: str) -> None:
    assert missing in field_errors(body(PAYOUT_EVENT, **{missing: ...}))


def test_payout_event_without_payout_id_is_refused() -> None:
    assert "payout_id" in field_errors(body(PAYOUT_EVENT, payout_id=...))


def test_payin_event_without_merchant_id_is_refused() -> None:
    assert "merchant_id" in field_errors(body(PAYIN_EVENT, merchant_id=...))


@pytest.mark.parametrize("amount", [150000.5, 100.0, "150000", True, 0, -1, None])
def test_amount_must_be_a_positive_integer_of_minor_units(amount: Any) -> None:
    assert "amount_minor" in field_errors(body(PAYOUT_EVENT, amount_minor=amount))


@pytest.mark.parametrize("fee", [-1, 1.5, "5", False])
def test_fee_and_vat_must_be_non_negative_integers(fee: Any) -> None:
    errors = field_errors(body(PAYIN_EVENT, fee_minor=fee, vat_minor=fee))
    assert {"fee_minor", "vat_minor"} <= set(errors)


def test_unknown_event_type_is_refused() -> None:
    assert "type" in field_errors(body(PAYOUT_EVENT, type="payout.maybe"))


@pytest.mark.parametrize("asset", ["ngn/2", "NGN/", "N", "NGN/2/3", 12])
def test_asset_must_be_in_formance_form(asset: Any) -> None:
    assert "asset" in field_errors(body(PAYOUT_EVENT, asset=asset))


@pytest.mark.parametrize("occurred_at", ["2026-11-28T05:00:00", "yesterday", 1_800_000_000])
def test_occurred_at_must_be_iso_8601_with_an_offset(occurred_at: Any) -> None:
    assert "occurred_at" in field_errors(body(PAYOUT_EVENT, occurred_at=occurred_at))


def test_every_bad_field_is_reported_at_once() -> None:
    errors = field_errors(body(PAYOUT_EVENT, event_id=..., amount_minor=-5, asset="x"))
    assert {"event_id", "amount_minor", "asset"} <= set(errors)


def test_oversized_body_is_refused() -> None:
    assert "body" in field_errors(body(PAYOUT_EVENT, reason="x" * 70_000))

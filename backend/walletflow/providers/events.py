"""The body of a provider webhook (`POST /webhooks/{provider}`), parsed and validated.

```json
{"event_id": "evt_1", "type": "payout.succeeded" | "payout.failed" | "payin.received",
 "provider_reference": "sbx_po_1", "payout_id": "po_1" (payout events),
 "merchant_id": "m1" (pay-ins), "asset": "NGN/2", "amount_minor": 150000,
 "fee_minor": 1500, "vat_minor": 113 (pay-ins, optional), "occurred_at": "2026-11-28T05:00:00Z",
 "reason": "account closed" (optional; expected on payout.failed)}
```

A bad body raises `ValidationError` whose `field_errors` name every bad field. The signature is
checked on the raw bytes before this runs (see `signing.verify`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from walletflow.domain.errors import ValidationError
from walletflow.providers.port import (
    ASSET_PATTERN,
    MERCHANT_ID_PATTERN,
    PAYOUT_ID_PATTERN,
)

MAX_EVENT_BODY_BYTES = 64 * 1024
MAX_REASON_LENGTH = 1024
TEXT_PATTERN = re.compile(r"^[A-Za-z0-9_.:/-]{1,256}\Z")


class ProviderEventType(StrEnum):
    PAYOUT_SUCCEEDED = "payout.succeeded"
    PAYOUT_FAILED = "payout.failed"
    PAYIN_RECEIVED = "payin.received"

    @property
    def is_payout(self) -> bool:
        return self in (ProviderEventType.PAYOUT_SUCCEEDED, ProviderEventType.PAYOUT_FAILED)


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    event_id: str
    event_type: ProviderEventType
    provider_reference: str
    asset: str
    amount_minor: int
    occurred_at: datetime
    payout_id: str | None = None
    merchant_id: str | None = None
    fee_minor: int | None = None
    vat_minor: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "type": self.event_type.value,
            "provider_reference": self.provider_reference,
            "asset": self.asset,
            "amount_minor": self.amount_minor,
            "occurred_at": self.occurred_at.isoformat(),
        }
        optional = {
            "payout_id": self.payout_id,
            "merchant_id": self.merchant_id,
            "fee_minor": self.fee_minor,
            "vat_minor": self.vat_minor,
            "reason": self.reason,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()


def _text(
    data: dict[str, Any],
    name: str,
    errors: dict[str, str],
    *,
    pattern: re.Pattern[str] = TEXT_PATTERN,
    required: bool = True,
) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = "is required"
        return None
    if not isinstance(value, str) or not pattern.match(value):
        errors[name] = f"must be a string matching {pattern.pattern}"
        return None
    return value


def _int(
    data: dict[str, Any], name: str, errors: dict[str, str], *, minimum: int, required: bool
) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = "is required"
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = "must be an integer number of minor units"
        return None
    if value < minimum:
        errors[name] = f"must be >= {minimum}"
        return None
    return value


def _timestamp(data: dict[str, Any], errors: dict[str, str]) -> datetime | None:
    value = data.get("occurred_at")
    if not isinstance(value, str):
        errors["occurred_at"] = "is required (ISO-8601 with a UTC offset)"
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        errors["occurred_at"] = "must be ISO-8601"
        return None
    if parsed.tzinfo is None:
        errors["occurred_at"] = "must include a UTC offset"
        return None
    return parsed


def parse_provider_event(body: bytes) -> ProviderEvent:
    """Parse and validate one webhook body; raise `ValidationError` with field errors."""
    if len(body) > MAX_EVENT_BODY_BYTES:
        raise ValidationError("event body too large", field_errors={"body": "too large"})
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(
            "event body is not JSON", field_errors={"body": f"not JSON: {error}"}
        ) from None
    if not isinstance(data, dict):
        raise ValidationError("event body must be an object", field_errors={"body": "not object"})

    errors: dict[str, str] = {}
    event_type: ProviderEventType | None = None
    raw_type = data.get("type")
    try:
        event_type = ProviderEventType(str(raw_type))
    except (ValueError, TypeError):
        allowed = ", ".join(t.value for t in ProviderEventType)
        errors["type"] = f"must be one of {allowed}"
    event_id = _text(data, "event_id", errors)
    provider_reference = _text(data, "provider_reference", errors)
    asset = _text(data, "asset", errors, pattern=ASSET_PATTERN)
    amount_minor = _int(data, "amount_minor", errors, minimum=1, required=True)
    occurred_at = _timestamp(data, errors)
    is_payout = event_type is not None and event_type.is_payout
    is_payin = event_type is ProviderEventType.PAYIN_RECEIVED
    payout_id = _text(data, "payout_id", errors, pattern=PAYOUT_ID_PATTERN, required=is_payout)
    merchant_id = _text(data, "merchant_id", errors, pattern=MERCHANT_ID_PATTERN, required=is_payin)
    fee_minor = _int(data, "fee_minor", errors, minimum=0, required=False)
    vat_minor = _int(data, "vat_minor", errors, minimum=0, required=False)
    reason = data.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH):
        errors["reason"] = f"must be a string of at most {MAX_REASON_LENGTH} characters"
        reason = None

    if errors:
        raise ValidationError("invalid provider event", field_errors=errors)
    assert event_type is not None and event_id is not None and provider_reference is not None
    assert asset is not None and amount_minor is not None and occurred_at is not None
    return ProviderEvent(
        event_id=event_id,
        event_type=event_type,
        provider_reference=provider_reference,
        asset=asset,
        amount_minor=amount_minor,
        occurred_at=occurred_at,
        payout_id=payout_id,
        merchant_id=merchant_id,
        fee_minor=fee_minor,
        vat_minor=vat_minor,
        reason=reason,
    )

"""The port every payout rail implements, and the values that cross it.

A rail answers with a `ProviderOutcome`. Its `status` is one of four, and only two are final:
`SUCCEEDED` (money left) and `FAILED` (the provider definitively refused; money did not leave).
`PENDING` means the provider accepted the payout and has not finished. `UNKNOWN` means we could
not learn what happened (timeout, 5xx, connection reset, unparsable answer): the payout may or
may not have been paid, so it must be requeried and never treated as a failure (DESIGN rule 6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from walletflow.domain.errors import ValidationError

PAYOUT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
MERCHANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")
# Formance asset form: "NGN/2", "USDC/6", "UGX" (scale 0 may be written "UGX/0").
ASSET_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{1,15}(/[0-9]{1,2})?\Z")


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in (OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED)


def asset_currency(asset: str) -> str:
    """The currency code of an asset: "NGN/2" gives "NGN", "UGX" gives "UGX"."""
    return asset.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """One payout as sent to a rail. `payout_id` is our id and the provider's idempotency key:
    submitting the same `payout_id` twice must never pay twice."""

    payout_id: str
    merchant_id: str
    asset: str
    amount_minor: int
    destination: dict[str, Any]
    callback_url: str | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        if not PAYOUT_ID_PATTERN.match(self.payout_id):
            errors["payout_id"] = "must be 1-128 characters of A-Z a-z 0-9 _ . : -"
        if not MERCHANT_ID_PATTERN.match(self.merchant_id):
            errors["merchant_id"] = "must be 1-128 characters of A-Z a-z 0-9 _ -"
        if not ASSET_PATTERN.match(self.asset):
            errors["asset"] = 'must be a Formance asset such as "NGN/2" or "UGX"'
        if isinstance(self.amount_minor, bool) or not isinstance(self.amount_minor, int):
            errors["amount_minor"] = "must be an integer number of minor units"
        elif self.amount_minor <= 0:
            errors["amount_minor"] = "must be positive"
        if not isinstance(self.destination, dict) or not self.destination:
            errors["destination"] = "must be a non-empty object of bank account details"
        if self.callback_url is not None and not self.callback_url.startswith(
            ("http://", "https://")
        ):
            errors["callback_url"] = "must be an http(s) URL"
        if errors:
            raise ValidationError("invalid payout request", field_errors=errors)

    def to_json(self) -> dict[str, Any]:
        return {
            "payout_id": self.payout_id,
            "merchant_id": self.merchant_id,
            "asset": self.asset,
            "amount_minor": self.amount_minor,
            "destination": self.destination,
            "callback_url": self.callback_url,
        }


@dataclass(frozen=True, slots=True)
class ProviderOutcome:
    """What a rail said about one payout. `raw` keeps the answer (or the transport error) for
    the saga's audit trail; `reason` explains a FAILED (always set) or an UNKNOWN."""

    status: OutcomeStatus
    provider_reference: str | None = None
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.status is not OutcomeStatus.FAILED or self.reason, "a failure needs a reason"

    @classmethod
    def unknown(cls, reason: str, raw: dict[str, Any] | None = None) -> ProviderOutcome:
        return cls(OutcomeStatus.UNKNOWN, None, reason, dict(raw or {}))


@runtime_checkable
class ProviderPort(Protocol):
    """A payout rail. Implementations are bounded: one HTTP call per method, no internal retry
    loop (the payout saga owns retries and backoff), and they never raise for a provider or
    transport problem: that is an outcome (`UNKNOWN`), not an exception."""

    async def submit_payout(self, request: PayoutRequest) -> ProviderOutcome: ...

    async def query_payout(self, payout_id: str) -> ProviderOutcome: ...

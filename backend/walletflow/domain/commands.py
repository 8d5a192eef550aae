"""Commands: plain immutable requests to change the wallet, one per registry entry.

Amounts are `int` minor units of the command's currency (`*_minor`); ids are validated address
segments. Nothing here does I/O; handlers in `service/handlers/` carry them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CreateWallet:
    merchant_id: str
    currency: str
    merchant_name: str | None


@dataclass(frozen=True)
class PostPayin:
    merchant_id: str
    currency: str
    amount_minor: int
    fee_minor: int
    vat_minor: int
    provider: str
    provider_reference: str | None


@dataclass(frozen=True)
class Transfer:
    from_merchant_id: str
    to_merchant_id: str
    currency: str
    amount_minor: int
    description: str | None


@dataclass(frozen=True)
class ReservePayout:
    merchant_id: str
    currency: str
    amount_minor: int
    provider: str
    destination: dict[str, Any]
    payout_id: str | None


@dataclass(frozen=True)
class SettleHold:
    payout_id: str
    provider_reference: str | None


@dataclass(frozen=True)
class ReleaseHold:
    payout_id: str
    reason: str


@dataclass(frozen=True)
class MarkPayoutManualReview:
    payout_id: str
    reason: str


@dataclass(frozen=True)
class SetFxRate:
    base_currency: str
    quote_currency: str
    rate: str


@dataclass(frozen=True)
class FxQuote:
    merchant_id: str
    sell_currency: str
    buy_currency: str
    sell_amount_minor: int


@dataclass(frozen=True)
class BookFxDeal:
    merchant_id: str
    quote_id: str


@dataclass(frozen=True)
class BookCounterpartyTrade:
    counterparty_id: str
    pay_currency: str
    pay_amount_minor: int
    receive_currency: str
    receive_amount_minor: int


@dataclass(frozen=True)
class StablecoinOnramp:
    merchant_id: str
    fiat_currency: str
    fiat_amount_minor: int
    coin: str
    coin_amount_minor: int


@dataclass(frozen=True)
class StablecoinOfframp:
    merchant_id: str
    coin: str
    coin_amount_minor: int
    fiat_currency: str
    fiat_amount_minor: int


@dataclass(frozen=True)
class TopUpGpsPool:
    bank_id: str
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class GpsCrossCurrencyPayout:
    merchant_id: str
    debit_currency: str
    debit_amount_minor: int
    credit_currency: str
    credit_amount_minor: int
    provider: str


@dataclass(frozen=True)
class FundBankAccount:
    bank_id: str
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class PostOpeningBalance:
    merchant_id: str
    currency: str
    amount_minor: int
    effective_at: datetime | None


@dataclass(frozen=True)
class MigrateWallet:
    """One wallet moved in from the legacy estate: its balances as of the legacy cut-off."""

    merchant_id: str
    merchant_name: str | None
    currency: str
    available_minor: int
    reserve_minor: int
    holds_minor: int
    as_of: datetime


@dataclass(frozen=True)
class HoldRollingReserve:
    merchant_id: str
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class ReleaseRollingReserve:
    merchant_id: str
    currency: str
    amount_minor: int


@dataclass(frozen=True)
class PostCorrection:
    direction: str
    merchant_id: str
    currency: str
    amount_minor: int
    reason: str
    evidence_reference: str
    effective_at: datetime | None


@dataclass(frozen=True)
class Reverse:
    transaction_id: int
    reason: str


@dataclass(frozen=True)
class SetFeatureFlag:
    scope_type: str
    scope_value: str
    enabled: bool


@dataclass(frozen=True)
class RebuildTemplates:
    pass


@dataclass(frozen=True)
class RebuildCoa:
    background: bool = False


@dataclass(frozen=True)
class ExportPostings:
    from_time: datetime
    to_time: datetime
    account: str | None = None
    asset: str | None = None


@dataclass(frozen=True)
class RebuildStatements:
    full: bool


@dataclass(frozen=True)
class SaveAccessLists:
    allowed_emails: tuple[str, ...]
    admin_emails: tuple[str, ...]

"""The account address scheme (Formance style, colon-separated) and its classifier.

Every address walletflow writes is built here, from validated segments, and every address can
be classified into a chart-of-accounts class with a normal balance. Ledger balances follow
Formance's sign: balance = credits - debits (input - output), so a credit-normal account
(a merchant wallet) is positive and a debit-normal account (a provider receivable) is negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from walletflow.domain.errors import ValidationError

WORLD = "world"
ACCOUNT_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*\Z")
SEGMENT_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}\Z")
MAX_ADDRESS_LENGTH = 256


class AccountClass(StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    REVENUE = "REVENUE"
    EXPENSE = "EXPENSE"


class NormalBalance(StrEnum):
    DEBIT = "DEBIT"
    CREDIT = "CREDIT"


@dataclass(frozen=True)
class Classification:
    kind: str
    """The address family, e.g. `merchant_available`; the key of the COA seed."""
    account_class: AccountClass
    normal_balance: NormalBalance
    may_go_negative: bool
    """Whether the ledger lets this account's Formance balance drop below zero."""


def segment(value: str, field: str) -> str:
    """Validate one address segment (an id); a bad one is a ValidationError on `field`."""
    if not SEGMENT_RE.match(value):
        raise ValidationError(
            f"{field} must be 1-64 characters of letters, digits, '_' or '-'",
            field_errors={field: "must match [a-zA-Z0-9_-]{1,64}"},
        )
    return value


def merchant_prefix(merchant_id: str) -> str:
    """The prefix of every account of one merchant (its wallets, holds and reserves)."""
    return f"merchants:{merchant_id}:"


def merchant_available(merchant_id: str, currency: str) -> str:
    return f"merchants:{merchant_id}:{currency}:available"


def merchant_hold(merchant_id: str, currency: str, payout_id: str) -> str:
    return f"merchants:{merchant_id}:{currency}:holds:{payout_id}"


def merchant_reserve(merchant_id: str, currency: str) -> str:
    return f"merchants:{merchant_id}:{currency}:reserve"


def provider_settlement(provider: str, currency: str) -> str:
    return f"providers:{provider}:{currency}:settlement"


def bank(bank_id: str, currency: str) -> str:
    return f"banks:{bank_id}:{currency}"


def fees_revenue(currency: str) -> str:
    return f"fees:{currency}:revenue"


def tax_vat(currency: str) -> str:
    return f"tax:{currency}:vat"


def fx_position(currency: str) -> str:
    return f"fx:{currency}:position"


def gps_pool(currency: str) -> str:
    return f"gps:{currency}:pool"


def stablecoin_custody(asset_code: str) -> str:
    return f"stablecoin:{asset_code}:custody"


def counterparty(counterparty_id: str, currency: str) -> str:
    return f"counterparties:{counterparty_id}:{currency}"


def suspense(currency: str) -> str:
    """Suspense and adjustments: the clearing account corrections post against (never
    @world). Each open item must be explained (the `suspense` gate); it carries either sign."""
    return f"suspense:{currency}:adjustments"


# (pattern, classification). Order matters: the first match wins.
_CLASSIFIERS: tuple[tuple[re.Pattern[str], Classification], ...] = tuple(
    (re.compile(pattern), Classification(kind, account_class, normal, negative))
    for pattern, kind, account_class, normal, negative in (
        (r"^world\Z", "world", AccountClass.EQUITY, NormalBalance.DEBIT, True),
        (
            r"^merchants:[^:]+:[^:]+:available\Z",
            "merchant_available",
            AccountClass.LIABILITY,
            NormalBalance.CREDIT,
            False,
        ),
        (
            r"^merchants:[^:]+:[^:]+:holds:[^:]+\Z",
            "merchant_hold",
            AccountClass.LIABILITY,
            NormalBalance.CREDIT,
            False,
        ),
        (
            r"^merchants:[^:]+:[^:]+:reserve\Z",
            "merchant_reserve",
            AccountClass.LIABILITY,
            NormalBalance.CREDIT,
            False,
        ),
        (
            r"^providers:[^:]+:[^:]+:settlement\Z",
            "provider_settlement",
            AccountClass.ASSET,
            NormalBalance.DEBIT,
            True,
        ),
        (r"^banks:[^:]+:[^:]+\Z", "bank", AccountClass.ASSET, NormalBalance.DEBIT, True),
        (
            r"^fees:[^:]+:revenue\Z",
            "fees_revenue",
            AccountClass.REVENUE,
            NormalBalance.CREDIT,
            False,
        ),
        (r"^tax:[^:]+:vat\Z", "tax_vat", AccountClass.LIABILITY, NormalBalance.CREDIT, False),
        (r"^fx:[^:]+:position\Z", "fx_position", AccountClass.ASSET, NormalBalance.DEBIT, True),
        (r"^gps:[^:]+:pool\Z", "gps_pool", AccountClass.ASSET, NormalBalance.DEBIT, True),
        (
            r"^stablecoin:[^:]+:custody\Z",
            "stablecoin_custody",
            AccountClass.ASSET,
            NormalBalance.DEBIT,
            True,
        ),
        (
            r"^counterparties:[^:]+:[^:]+\Z",
            "counterparty",
            AccountClass.ASSET,
            NormalBalance.DEBIT,
            True,
        ),
        (
            r"^suspense:[^:]+:adjustments\Z",
            "suspense",
            AccountClass.ASSET,
            NormalBalance.DEBIT,
            True,
        ),
    )
)

ACCOUNT_KINDS: tuple[str, ...] = tuple(c.kind for _, c in _CLASSIFIERS)


class UnclassifiedAccount(ValidationError):
    code = "UNKNOWN_ACCOUNT"


def classify(address: str) -> Classification:
    """The COA classification of an address; an address outside the scheme is an error."""
    if len(address) > MAX_ADDRESS_LENGTH or not ACCOUNT_NAME_RE.match(address):
        raise UnclassifiedAccount(
            f"not a valid account address: {address!r}", field_errors={"account": "malformed"}
        )
    for pattern, classification in _CLASSIFIERS:
        if pattern.match(address):
            return classification
    raise UnclassifiedAccount(
        f"account {address!r} is outside walletflow's address scheme",
        field_errors={"account": "unknown account family"},
    )

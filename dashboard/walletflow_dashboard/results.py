"""What the API answers, as typed dataclasses: one per result shape the documents select.

Each class names its GraphQL type (`GRAPHQL_TYPE`) and has exactly the fields its document
selects, snake_case for the API's camelCase (`balance_before_minor` ← `balanceBeforeMinor`).
`parse(cls, value)` turns an answer into the class, checking every field on the way: BigInt
(sent as a string of digits) becomes `int`, DateTime stays the API's ISO string, JSON stays as
sent (`Any`). A missing or mistyped field is an `ApiError` (`BAD_RESPONSE`), never a KeyError
deep in a page. `wire(value)` gives back the API's names, in selection order, for the generic
tables and the CSV exports.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, TypeVar, Union

from walletflow_dashboard.api import ApiError

T = TypeVar("T")

BAD_RESPONSE = "BAD_RESPONSE"


def graphql_name(field_name: str) -> str:
    """`balance_before_minor` → `balanceBeforeMinor`."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def parse(cls: type[T], value: Any, path: str = "") -> T:
    """An answer object → `cls`, every field checked (see the module docstring)."""
    if not isinstance(value, dict):
        raise ApiError(f"unexpected answer at {path or cls.__name__}: not an object", BAD_RESPONSE)
    hints = _hints(typing.cast(type, cls))
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        key = graphql_name(f.name)
        if key not in value:
            raise ApiError(f"unexpected answer: {path}{key} is missing", BAD_RESPONSE)
        kwargs[f.name] = _convert(hints[f.name], value[key], f"{path}{key}")
    return cls(**kwargs)


def answer(data: Any, name: str) -> Any:
    """One field of an answer object (`data`, a connection's `nodes`); missing: a bad response."""
    if not isinstance(data, dict) or name not in data:
        raise ApiError(f"unexpected answer: no `{name}`", BAD_RESPONSE)
    return data[name]


def parse_list(cls: type[T], value: Any, path: str = "") -> list[T]:
    if not isinstance(value, list):
        raise ApiError(f"unexpected answer at {path or cls.__name__}: not a list", BAD_RESPONSE)
    return [parse(cls, item, f"{path}[{i}].") for i, item in enumerate(value)]


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _convert(options[0], value, path)
    if value is None and hint is not Any:
        raise ApiError(f"unexpected answer: {path} is null", BAD_RESPONSE)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ApiError(f"unexpected answer: {path} is not a list", BAD_RESPONSE)
        return [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        return parse(typing.cast(type, hint), value, f"{path}.")
    if hint is Any:
        return value
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is bool and isinstance(value, bool):
        return value
    if not isinstance(value, bool):  # a bool is an int to Python, never to GraphQL
        if hint is int and isinstance(value, int):
            return value
        if hint is int and isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)  # BigInt: a string of digits
        if hint is float and isinstance(value, int | float):
            return float(value)
        if hint is str and isinstance(value, str):
            return value
    expected = getattr(hint, "__name__", str(hint))
    raise ApiError(f"unexpected answer: {path} is not {expected}", BAD_RESPONSE)


def wire(value: Any) -> Any:
    """A result back in the API's names and order (`{"accountClass": …}`), for tables and CSV."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            graphql_name(f.name): wire(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


# --- wallets, holds, transactions, the outbox -------------------------------------------------


@dataclass(frozen=True)
class MoneyAmount:
    GRAPHQL_TYPE: ClassVar[str] = "MoneyAmount"
    formatted: str


@dataclass(frozen=True)
class WalletBalances:
    GRAPHQL_TYPE: ClassVar[str] = "WalletBalances"
    available: MoneyAmount
    holds: MoneyAmount
    reserve: MoneyAmount
    total: MoneyAmount


@dataclass(frozen=True)
class Wallet:
    GRAPHQL_TYPE: ClassVar[str] = "Wallet"
    merchant_id: str
    currency: str
    asset: str
    balances: WalletBalances


@dataclass(frozen=True)
class Hold:
    GRAPHQL_TYPE: ClassVar[str] = "Hold"
    payout_id: str
    merchant_id: str
    currency: str
    asset: str
    amount_minor: int
    provider: str
    state: str
    reason: str | None
    created_at: str
    state_changed_at: str
    formatted: str
    provider_reference: str | None


@dataclass(frozen=True)
class HoldDetail:
    """One payout (its deep link): the hold row, where it pays to and the ledger's balance."""

    GRAPHQL_TYPE: ClassVar[str] = "Hold"
    payout_id: str
    merchant_id: str
    currency: str
    asset: str
    amount_minor: int
    provider: str
    state: str
    reason: str | None
    created_at: str
    state_changed_at: str
    formatted: str
    provider_reference: str | None
    destination: Any
    ledger_balance_minor: int


@dataclass(frozen=True)
class PageInfo:
    GRAPHQL_TYPE: ClassVar[str] = "PageInfo"
    has_next_page: bool
    end_cursor: str | None


@dataclass(frozen=True)
class WalletPage:
    GRAPHQL_TYPE: ClassVar[str] = "WalletConnection"
    total_count: int | None
    page_info: PageInfo
    nodes: list[Wallet]


@dataclass(frozen=True)
class HoldPage:
    GRAPHQL_TYPE: ClassVar[str] = "HoldConnection"
    total_count: int | None
    page_info: PageInfo
    nodes: list[Hold]


@dataclass(frozen=True)
class PostingLine:
    GRAPHQL_TYPE: ClassVar[str] = "Posting"
    tx_id: int
    ordinal: int
    source: str
    destination: str
    asset: str
    amount_minor: int
    formatted: str
    effective_at: str


@dataclass(frozen=True)
class PostingPage:
    GRAPHQL_TYPE: ClassVar[str] = "PostingConnection"
    total_count: int | None
    page_info: PageInfo
    nodes: list[PostingLine]


@dataclass(frozen=True)
class Balance:
    GRAPHQL_TYPE: ClassVar[str] = "Balance"
    account: str
    asset: str
    balance_minor: int
    formatted: str


@dataclass(frozen=True)
class SearchHit:
    GRAPHQL_TYPE: ClassVar[str] = "SearchHit"
    kind: str
    id: str
    label: str


@dataclass(frozen=True)
class FailureCount:
    GRAPHQL_TYPE: ClassVar[str] = "FailureCount"
    error_code: str
    count: int
    last_at: str
    last_command: str


@dataclass(frozen=True)
class FailedCommand:
    GRAPHQL_TYPE: ClassVar[str] = "FailedCommand"
    command: str
    error_code: str
    actor: str
    idempotency_key: str
    merchant_id: str | None
    created_at: str


@dataclass(frozen=True)
class AccessLists:
    GRAPHQL_TYPE: ClassVar[str] = "AccessListsInfo"
    allowed_emails: list[str]
    admin_emails: list[str]
    source: str


@dataclass(frozen=True)
class Posting:
    GRAPHQL_TYPE: ClassVar[str] = "Posting"
    source: str
    destination: str
    asset: str
    amount_minor: int
    formatted: str


@dataclass(frozen=True)
class Transaction:
    GRAPHQL_TYPE: ClassVar[str] = "Transaction"
    id: int
    reference: str | None
    effective_at: str
    metadata: Any
    postings: list[Posting]


@dataclass(frozen=True)
class TransactionPage:
    GRAPHQL_TYPE: ClassVar[str] = "TransactionConnection"
    total_count: int | None
    page_info: PageInfo
    nodes: list[Transaction]


@dataclass(frozen=True)
class TransactionDetail:
    GRAPHQL_TYPE: ClassVar[str] = "Transaction"
    id: int
    reference: str | None
    effective_at: str
    inserted_at: str
    metadata: Any
    reverted: bool
    reverts_tx_id: int | None
    postings: list[Posting]


@dataclass(frozen=True)
class OutboxStatus:
    GRAPHQL_TYPE: ClassVar[str] = "OutboxStatus"
    pending_count: int
    oldest_pending_age_s: float | None


@dataclass(frozen=True)
class Event:
    GRAPHQL_TYPE: ClassVar[str] = "Event"
    event_id: str
    type: str
    merchant_id: str | None
    payload: Any


# --- statements and reporting -----------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    GRAPHQL_TYPE: ClassVar[str] = "StatementLine"
    tx_id: int
    address: str
    asset: str
    amount_minor: int
    balance_before_minor: int
    balance_after_minor: int
    effective_at: str
    reference: str | None
    description: str


@dataclass(frozen=True)
class StatementPage:
    GRAPHQL_TYPE: ClassVar[str] = "StatementLineConnection"
    total_count: int | None
    page_info: PageInfo
    nodes: list[StatementLine]


@dataclass(frozen=True)
class AssetTotal:
    GRAPHQL_TYPE: ClassVar[str] = "AssetTotal"
    asset: str
    debit_minor: int
    credit_minor: int
    net_minor: int
    foots: bool


@dataclass(frozen=True)
class TrialBalanceLine:
    GRAPHQL_TYPE: ClassVar[str] = "TrialBalanceLine"
    asset: str
    code: str
    name: str
    account_class: str | None
    normal_balance: str | None
    accounts: int
    debit_minor: int
    credit_minor: int
    balance_minor: int
    abnormal: bool


@dataclass(frozen=True)
class TrialBalance:
    GRAPHQL_TYPE: ClassVar[str] = "TrialBalance"
    foots: bool
    totals: list[AssetTotal]
    lines: list[TrialBalanceLine]


@dataclass(frozen=True)
class AlmSummary:
    GRAPHQL_TYPE: ClassVar[str] = "AlmSummary"
    asset: str
    currency: str
    assets_minor: int
    liabilities_minor: int
    net_position_minor: int
    by_class_minor: Any
    unmapped_minor: int


@dataclass(frozen=True)
class AlmLine:
    GRAPHQL_TYPE: ClassVar[str] = "AlmLine"
    asset: str
    currency: str
    account_class: str
    code: str
    name: str
    balance_minor: int


@dataclass(frozen=True)
class Alm:
    GRAPHQL_TYPE: ClassVar[str] = "Alm"
    summaries: list[AlmSummary]
    lines: list[AlmLine]


@dataclass(frozen=True)
class Gate:
    GRAPHQL_TYPE: ClassVar[str] = "Gate"
    name: str
    ok: bool
    detail: Any
    checked_at: str


@dataclass(frozen=True)
class DriftItem:
    GRAPHQL_TYPE: ClassVar[str] = "DriftItem"
    check: str
    subject: str
    detail: str


@dataclass(frozen=True)
class CommandStats:
    GRAPHQL_TYPE: ClassVar[str] = "CommandStats"
    since: str
    posted: int
    failed: int


@dataclass(frozen=True)
class ProviderEvent:
    GRAPHQL_TYPE: ClassVar[str] = "ProviderEventInfo"
    provider: str
    provider_reference: str
    event_type: str
    event_id: str
    status: str
    deliveries: int
    received_at: str


@dataclass(frozen=True)
class CoaAccount:
    GRAPHQL_TYPE: ClassVar[str] = "CoaAccount"
    code: str
    name: str
    kind: str
    account_class: str
    normal_balance: str
    address_pattern: str
    may_go_negative: bool


@dataclass(frozen=True)
class GlMapping:
    GRAPHQL_TYPE: ClassVar[str] = "GlMapping"
    template: str
    leg: str
    source_kind: str
    destination_kind: str
    debit_code: str
    credit_code: str
    description: str


# --- controls and settings --------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    GRAPHQL_TYPE: ClassVar[str] = "TemplateInfo"
    name: str
    sha256: str
    loaded: bool
    loaded_sha256: str | None
    loaded_at: str | None

    @property
    def matches(self) -> bool:
        """Loaded, and the loaded source is the catalog's."""
        return self.loaded and self.loaded_sha256 == self.sha256


@dataclass(frozen=True)
class FeatureFlag:
    GRAPHQL_TYPE: ClassVar[str] = "FeatureFlag"
    scope_type: str
    scope_value: str
    enabled: bool
    updated_by: str
    updated_at: str


@dataclass(frozen=True)
class ApiKeyInfo:
    GRAPHQL_TYPE: ClassVar[str] = "ApiKeyInfo"
    key_id: str
    role: str
    merchant_id: str | None
    label: str
    created_by: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


@dataclass(frozen=True)
class ApiKeyRef:
    GRAPHQL_TYPE: ClassVar[str] = "ApiKeyInfo"
    key_id: str


@dataclass(frozen=True)
class CreatedApiKey:
    GRAPHQL_TYPE: ClassVar[str] = "CreatedApiKey"
    token: str
    key: ApiKeyRef


@dataclass(frozen=True)
class Refusal:
    """Any member of the `Error` interface in a mutation's result union."""

    GRAPHQL_TYPE: ClassVar[str] = "Error"
    code: str
    message: str


def refusal_or_none(value: Any, path: str) -> Refusal | None:
    """A result union whose success carries nothing the dashboard reads: its error, or None."""
    if not isinstance(value, dict) or "__typename" not in value:
        raise ApiError(f"unexpected answer at {path}: no __typename", BAD_RESPONSE)
    return parse(Refusal, value, f"{path}.") if "code" in value else None


# Every class above that mirrors a GraphQL type (the documents test checks their fields).
RESULT_TYPES: tuple[type, ...] = (
    MoneyAmount, WalletBalances, Wallet, Hold, Posting, Transaction, OutboxStatus, Event,
    StatementLine, AssetTotal, TrialBalanceLine, TrialBalance, AlmSummary, AlmLine, Alm, Gate,
    DriftItem, CommandStats, ProviderEvent, CoaAccount, GlMapping, TemplateInfo, FeatureFlag,
    ApiKeyInfo, ApiKeyRef, CreatedApiKey, Refusal, HoldDetail, PageInfo, WalletPage, HoldPage,
    PostingLine, PostingPage, Balance, SearchHit, FailureCount, FailedCommand, AccessLists,
    TransactionPage, TransactionDetail, StatementPage,
)  # fmt: skip

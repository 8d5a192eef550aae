"""Read models the pages show: each fixed document (`documents.py`) run over GraphQL, its answer
parsed into the typed results (`results.py`) and turned into display rows.

Reporting tables (`Table`) show every column their document selects, in the API's names; any
`…Minor` column is written with its row's currency scale. Nothing is discovered at run time.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from walletflow.domain import accounts
from walletflow_dashboard import documents
from walletflow_dashboard.api import ApiError, Credential, graphql
from walletflow_dashboard.commands import format_minor
from walletflow_dashboard.formatting import age, age_seconds, fields_text, label, timestamp
from walletflow_dashboard.results import (
    AccessLists,
    Alm,
    ApiKeyInfo,
    Balance,
    CoaAccount,
    CommandStats,
    CreatedApiKey,
    DriftItem,
    Event,
    FailedCommand,
    FailureCount,
    FeatureFlag,
    Gate,
    GlMapping,
    Hold,
    HoldDetail,
    HoldPage,
    OutboxStatus,
    PostingPage,
    ProviderEvent,
    Refusal,
    SearchHit,
    StatementLine,
    StatementPage,
    TemplateInfo,
    Transaction,
    TransactionDetail,
    TransactionPage,
    TrialBalance,
    Wallet,
    WalletPage,
    answer,
    parse,
    parse_list,
    refusal_or_none,
    wire,
)

T = TypeVar("T")

PAGE_SIZE = documents.PAGE_SIZE
PAGE_SIZES = ("25", "50", "100", "200")
EXPORT_PAGE_SIZE = 200
MAX_SELECTION_DEPTH = 3
MAX_CELL_CHARS = 160
REVIEW_SLA_S = int(os.environ.get("DASHBOARD_REVIEW_SLA_S", "900"))
"""A payout in manual review longer than this is flagged (default 15 min)."""
HOLD_SLA_S = int(os.environ.get("DASHBOARD_HOLD_SLA_S", "3600"))
"""An open hold (reserved) older than this is flagged (default 1 h)."""


@dataclass
class Paged:
    """Where a page stands: the API's true total and the cursor of the next page."""

    total: int = 0
    has_next: bool = False
    end_cursor: str = ""


@dataclass
class Table:
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


@dataclass
class WalletRow:
    merchant_id: str
    currency: str
    available: str
    holds: str
    reserve: str
    total: str
    available_account: str = ""


@dataclass
class HoldRow:
    payout_id: str
    merchant_id: str
    currency: str
    amount: str
    provider: str
    state: str
    reason: str
    age: str
    created: str = ""
    overdue: bool = False
    provider_reference: str = ""
    state_label: str = ""


@dataclass
class TxRow:
    tx_id: str
    reference: str
    effective_at: str
    summary: str


@dataclass
class GateRow:
    name: str
    ok: bool
    detail: str


@dataclass
class StatementRow:
    tx_id: str
    effective_at: str
    counterparty: str
    before: str
    change: str
    after: str


@dataclass
class Schema:
    """The rule a reporting document follows, over introspection-shaped types: every scalar
    leaf, objects to a bounded depth, no pagination. Not used at run time: the documents test
    builds it from `schema.graphql` and holds the reporting documents to it, so a report still
    shows every column the API has."""

    types: dict[str, dict[str, Any]] = field(default_factory=dict)

    def selection(self, type_ref: dict[str, Any], depth: int = 0) -> str:
        """Every scalar leaf of a type, objects to a bounded depth (`{ a b { c } }`)."""
        named = _named(type_ref)
        info = self.types.get(named["name"] or "", {})
        if info.get("kind") in ("SCALAR", "ENUM") or not info.get("fields"):
            return ""
        if depth >= MAX_SELECTION_DEPTH:
            return ""
        parts = []
        for f in info["fields"]:
            if any(_required(a) for a in f.get("args") or []):
                continue
            inner = _named(f["type"])
            kind = self.types.get(inner["name"] or "", {}).get("kind")
            if kind in ("SCALAR", "ENUM"):
                parts.append(f["name"])
            elif kind == "OBJECT":
                if inner["name"] in ("PageInfo",) or f["name"] == "edges":
                    continue
                sub = self.selection(f["type"], depth + 1)
                if sub:
                    parts.append(f"{f['name']} {sub}")
        return "{ " + " ".join(parts) + " }" if parts else ""


def _named(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return type_ref


def _required(arg: dict[str, Any]) -> bool:
    """A non-null argument without a default must be given."""
    return arg["type"].get("kind") == "NON_NULL" and arg.get("defaultValue") is None


def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def flatten(value: Any) -> list[dict[str, Any]]:
    """A query's answer → rows: lists as-is, connections by their nodes, an object's lists."""
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"value": v} for v in value]
    if isinstance(value, dict):
        if isinstance(value.get("nodes"), list):
            return flatten(value["nodes"])
        lists = [k for k, v in value.items() if isinstance(v, list) and v]
        if len(lists) == 1:
            return flatten(value[lists[0]])
        return [value]
    return [{"value": value}]


def money_cell(row: dict[str, Any], key: str) -> str:
    """A `…Minor` amount written with its row's asset scale; anything else as is."""
    value = row.get(key)
    asset = str(row.get("asset") or row.get("currency") or "")
    if not key.endswith("Minor") or not asset or value is None:
        return cell(value)
    if isinstance(value, dict):  # e.g. byClassMinor: {"ASSET": "150025", …}
        return ", ".join(f"{k}: {_money(v, asset)}" for k, v in value.items())
    return _money(value, asset)


def _money(value: Any, asset: str) -> str:
    try:
        return format_minor(int(value), asset)
    except (TypeError, ValueError):
        return cell(value)


def to_table(rows: list[dict[str, Any]], note: str = "") -> Table:
    headers: list[str] = []
    for row in rows:
        for key in row:
            if key not in headers:
                headers.append(key)
    return Table(
        headers=[h.removesuffix("Minor") for h in headers],
        rows=[[money_cell(row, h) for h in headers] for row in rows],
        note=note or ("" if rows else "nothing yet"),
    )


def table_of(rows: Sequence[object], note: str = "") -> Table:
    """Typed results as a table: their fields in the API's names and selection order."""
    return to_table([wire(row) for row in rows], note)


async def _report(credential: Credential, document: str, name: str, cls: type[T]) -> list[T]:
    return parse_list(cls, answer(await graphql(credential, document), name), name)


async def _report_table(
    credential: Credential,
    document: str,
    name: str,
    cls: type[object],
    variables: dict[str, Any] | None = None,
) -> Table:
    """A list report as a table; an API error is the table's note, never an exception."""
    try:
        data = await graphql(credential, document, variables)
        rows = parse_list(cls, answer(data, name), name)
    except ApiError as error:
        return Table(note=f"{error.code}: {error.message}")
    return table_of(rows)


# --- gates, drift, command stats, provider events ---------------------------------------------


def gate_row(gate: Gate) -> GateRow:
    checked = timestamp(gate.checked_at) if gate.checked_at else ""
    text = fields_text(gate.detail) if gate.detail not in (None, "", {}) else "—"
    return GateRow(
        name=gate.name, ok=gate.ok, detail=(f"checked {checked} · " if checked else "") + text
    )


def gate_rows(value: Any) -> list[GateRow]:
    """The gates answer (`[Gate]`) → rows; lenient about the shape (a list, an object keyed by
    gate, `green`/`passed`/`status` for `ok`), so an API that shapes them otherwise still shows."""
    items: list[tuple[str, Any]]
    if isinstance(value, dict) and not any(k in value for k in ("name", "gate")):
        items = [(k, v) for k, v in value.items() if isinstance(v, dict)]
        if not items and isinstance(value.get("gates"), list):
            items = [("", v) for v in value["gates"]]
    else:
        items = [("", v) for v in flatten(value)]
    gates: list[Gate] = []
    for key, item in items:
        if not isinstance(item, dict):
            continue
        ok_value = next(
            (item[k] for k in ("ok", "green", "passed", "healthy") if k in item),
            str(item.get("status", "")).lower() in ("green", "ok", "pass", "passed"),
        )
        rest = {k: v for k, v in item.items() if k not in ("name", "gate", "ok", "green")}
        gates.append(
            Gate(
                name=str(item.get("name") or item.get("gate") or key or "gate"),
                ok=bool(ok_value),
                detail=item.get("detail", rest),
                checked_at=str(item.get("checkedAt") or ""),
            )
        )
    return [gate_row(g) for g in gates]


async def gates(credential: Credential) -> list[GateRow]:
    return gate_rows(answer(await graphql(credential, documents.GATES_QUERY), "gates"))


def gates_update(value: dict[str, Any]) -> list[GateRow]:
    """One result of the `gates` subscription."""
    return gate_rows(answer(value, "gates"))


async def coa_drift(credential: Credential) -> list[DriftItem]:
    return await _report(credential, documents.COA_DRIFT_QUERY, "coaDrift", DriftItem)


async def drift_table(credential: Credential) -> Table:
    return await _report_table(credential, documents.COA_DRIFT_QUERY, "coaDrift", DriftItem)


async def command_stats(credential: Credential) -> CommandStats:
    data = await graphql(credential, documents.COMMAND_STATS_QUERY)
    return parse(CommandStats, answer(data, "commandStats"), "commandStats.")


async def provider_events_table(credential: Credential) -> Table:
    return await _report_table(
        credential,
        documents.PROVIDER_EVENTS_QUERY,
        "providerEvents",
        ProviderEvent,
        {"first": PAGE_SIZE},
    )


# --- wallets, holds, transactions, events, the outbox -----------------------------------------


def paged(page: WalletPage | HoldPage | TransactionPage | PostingPage | StatementPage) -> Paged:
    return Paged(
        total=page.total_count if page.total_count is not None else len(page.nodes),
        has_next=page.page_info.has_next_page,
        end_cursor=page.page_info.end_cursor or "",
    )


def wallet_row(w: Wallet) -> WalletRow:
    return WalletRow(
        merchant_id=w.merchant_id,
        currency=w.currency,
        available=w.balances.available.formatted,
        holds=w.balances.holds.formatted,
        reserve=w.balances.reserve.formatted,
        total=w.balances.total.formatted,
        available_account=accounts.merchant_available(w.merchant_id, w.currency),
    )


async def wallets(
    credential: Credential,
    merchant_prefix: str = "",
    first: int = PAGE_SIZE,
    after: str = "",
    merchant_id: str = "",
) -> tuple[list[WalletRow], Paged]:
    """One page of wallets (merchant id prefix: as typed), with the API's total."""
    variables = {
        "merchantId": merchant_id or None,
        "merchantPrefix": merchant_prefix or None,
        "first": first,
        "after": after or None,
    }
    data = await graphql(credential, documents.WALLETS_QUERY, variables)
    page = parse(WalletPage, answer(data, "wallets"), "wallets.")
    return [wallet_row(w) for w in page.nodes], paged(page)


async def merchant_suggestions(credential: Credential, prefix: str) -> list[str]:
    """Merchant ids starting with `prefix` (autocomplete), each once."""
    if not prefix.strip():
        return []
    data = await graphql(credential, documents.MERCHANT_SUGGESTIONS_QUERY, {"prefix": prefix})
    nodes = answer(answer(data, "wallets"), "nodes")
    seen: dict[str, None] = {}
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("merchantId"), str):
            seen[node["merchantId"]] = None
    return list(seen)


async def wallet_currencies(credential: Credential) -> list[str]:
    value = answer(await graphql(credential, documents.WALLET_CURRENCIES_QUERY), "walletCurrencies")
    return [str(v) for v in value] if isinstance(value, list) else []


def hold_row(h: Hold) -> HoldRow:
    waited = age_seconds(h.state_changed_at or h.created_at)
    sla = REVIEW_SLA_S if h.state == "manual_review" else HOLD_SLA_S
    return HoldRow(
        payout_id=h.payout_id,
        merchant_id=h.merchant_id,
        currency=h.currency,
        amount=h.formatted or format_minor(h.amount_minor, h.asset),
        provider=h.provider,
        state=h.state,
        reason=h.reason or "",
        age=age(waited),
        state_label=label(h.state),
        created=timestamp(h.created_at),
        overdue=h.state in ("manual_review", "reserved") and waited > sla,
        provider_reference=h.provider_reference or "",
    )


async def holds(
    credential: Credential,
    state: str = "",
    merchant_id: str = "",
    older_than_s: str = "",
    first: int = PAGE_SIZE,
    after: str = "",
    newest_first: bool = True,
) -> tuple[list[HoldRow], Paged]:
    variables = {
        "state": state or None,
        "merchantId": merchant_id or None,
        "olderThanS": int(older_than_s) if older_than_s.strip().isdigit() else None,
        "first": first,
        "after": after or None,
        "newestFirst": newest_first,
    }
    data = await graphql(credential, documents.HOLDS_QUERY, variables)
    page = parse(HoldPage, answer(data, "holds"), "holds.")
    return [hold_row(h) for h in page.nodes], paged(page)


async def manual_review_queue(
    credential: Credential, first: int = PAGE_SIZE, after: str = "", newest_first: bool = False
) -> tuple[list[HoldRow], Paged]:
    """The queue, oldest first by default (the longest wait is the most urgent)."""
    variables = {"first": first, "after": after or None, "newestFirst": newest_first}
    data = await graphql(credential, documents.MANUAL_REVIEW_QUEUE_QUERY, variables)
    page = parse(HoldPage, answer(data, "manualReviewQueue"), "manualReviewQueue.")
    return [hold_row(h) for h in page.nodes], paged(page)


def queue_update(value: dict[str, Any]) -> list[HoldRow]:
    """One result of the `manualReviewQueue` subscription: the whole queue."""
    queue = parse_list(Hold, answer(value, "manualReviewQueue"), "manualReviewQueue")
    return [hold_row(h) for h in queue]


@dataclass
class FieldRow:
    label: str
    value: str


@dataclass
class PayoutView:
    found: bool = False
    payout_id: str = ""
    merchant_id: str = ""
    currency: str = ""
    amount: str = ""
    state: str = ""
    overdue: bool = False
    ledger_balance: str = ""
    hold_account: str = ""
    fields: list[FieldRow] = field(default_factory=list)


def payout_view(h: HoldDetail) -> PayoutView:
    row = hold_row(
        Hold(
            h.payout_id, h.merchant_id, h.currency, h.asset, h.amount_minor, h.provider, h.state,
            h.reason, h.created_at, h.state_changed_at, h.formatted, h.provider_reference,
        )
    )  # fmt: skip
    details = [
        FieldRow("Provider", h.provider),
        FieldRow("Provider reference", h.provider_reference or "—"),
        FieldRow("Created", timestamp(h.created_at)),
        FieldRow("State since", f"{timestamp(h.state_changed_at)} ({row.age} ago)"),
        FieldRow("Reason", h.reason or "—"),
        *[FieldRow(f"Destination · {k}", v) for k, v in _pairs(h.destination)],
    ]
    return PayoutView(
        found=True,
        payout_id=h.payout_id,
        merchant_id=h.merchant_id,
        currency=h.currency,
        amount=row.amount,
        state=row.state_label,
        overdue=row.overdue,
        ledger_balance=format_minor(h.ledger_balance_minor, h.asset),
        hold_account=accounts.merchant_hold(h.merchant_id, h.currency, h.payout_id),
        fields=details,
    )


def _pairs(value: Any) -> list[tuple[str, str]]:
    from walletflow_dashboard.formatting import fields as labelled

    return labelled(value) if value else []


async def payout(credential: Credential, payout_id: str) -> PayoutView:
    data = await graphql(credential, documents.HOLD_QUERY, {"payoutId": payout_id})
    return payout_view(parse(HoldDetail, answer(data, "hold"), "hold."))


def tx_row(tx: Transaction) -> TxRow:
    postings = tx.postings
    summary = "; ".join(f"{p.source} → {p.destination} {p.formatted}" for p in postings[:3]) + (
        f" (+{len(postings) - 3} more)" if len(postings) > 3 else ""
    )
    return TxRow(
        tx_id=str(tx.id),
        reference=tx.reference or "",
        effective_at=timestamp(tx.effective_at),
        summary=summary,
    )


async def transactions(
    credential: Credential,
    first: int = PAGE_SIZE,
    after: str = "",
    account: str = "",
    reference: str = "",
) -> tuple[list[TxRow], Paged]:
    """One page of ledger transactions, newest first, with the API's total."""
    variables = {
        "first": first,
        "after": after or None,
        "account": account or None,
        "reference": reference or None,
    }
    data = await graphql(credential, documents.TRANSACTIONS_QUERY, variables)
    page = parse(TransactionPage, answer(data, "transactions"), "transactions.")
    return [tx_row(tx) for tx in page.nodes], paged(page)


async def recent_transactions(credential: Credential, first: int = 20) -> list[TxRow]:
    rows, _ = await transactions(credential, first)
    return rows


@dataclass
class LegRow:
    source: str
    destination: str
    amount: str


@dataclass
class TxView:
    found: bool = False
    tx_id: str = ""
    reference: str = ""
    effective_at: str = ""
    inserted_at: str = ""
    reverted: bool = False
    reverts_tx_id: str = ""
    payout_id: str = ""
    legs: list[LegRow] = field(default_factory=list)
    metadata: list[FieldRow] = field(default_factory=list)


async def transaction(credential: Credential, tx_id: str) -> TxView:
    if not tx_id.isdigit():
        raise ApiError(f"no transaction {tx_id!r}", "NOT_FOUND")
    data = await graphql(credential, documents.TRANSACTION_QUERY, {"id": tx_id})
    tx = parse(TransactionDetail, answer(data, "transaction"), "transaction.")
    metadata = tx.metadata if isinstance(tx.metadata, dict) else {}
    return TxView(
        found=True,
        tx_id=str(tx.id),
        reference=tx.reference or "",
        effective_at=timestamp(tx.effective_at),
        inserted_at=timestamp(tx.inserted_at),
        reverted=tx.reverted,
        reverts_tx_id="" if tx.reverts_tx_id is None else str(tx.reverts_tx_id),
        payout_id=str(metadata.get("payout_id") or metadata.get("payoutId") or ""),
        legs=[LegRow(p.source, p.destination, p.formatted) for p in tx.postings],
        metadata=[FieldRow(k, v) for k, v in _pairs(metadata)],
    )


@dataclass
class PostingRow:
    tx_id: str
    source: str
    destination: str
    amount: str
    effective_at: str
    incoming: bool = False


async def postings(
    credential: Credential, account: str, first: int = PAGE_SIZE, after: str = ""
) -> tuple[list[PostingRow], Paged]:
    """One page of the postings touching `account` (an address or a prefix), newest first."""
    variables = {"account": account or None, "first": first, "after": after or None}
    data = await graphql(credential, documents.POSTINGS_QUERY, variables)
    page = parse(PostingPage, answer(data, "postings"), "postings.")
    rows = [
        PostingRow(
            tx_id=str(p.tx_id),
            source=p.source,
            destination=p.destination,
            amount=p.formatted,
            effective_at=timestamp(p.effective_at),
            incoming=p.destination.startswith(account),
        )
        for p in page.nodes
    ]
    return rows, paged(page)


@dataclass
class BalanceRow:
    account: str
    balance: str


async def balances(
    credential: Credential, prefix: str = "", effective_at: str = "", account: str = ""
) -> list[BalanceRow]:
    """Balances of one account or under a prefix, now or as of an effective time (ISO, with
    its zone)."""
    variables = {
        "accounts": [account] if account else None,
        "prefix": None if account else (prefix or None),
        "effectiveAt": effective_at or None,
    }
    data = await graphql(credential, documents.BALANCES_QUERY, variables)
    found = parse_list(Balance, answer(data, "balances"), "balances")
    return [BalanceRow(b.account, b.formatted) for b in found]


@dataclass
class HitRow:
    kind: str
    id: str
    label: str
    href: str


def hit_href(kind: str, id: str) -> str:
    return {"merchant": "/merchant/", "transaction": "/tx/", "payout": "/payout/"}.get(
        kind, "/account/"
    ) + id


async def search(credential: Credential, text: str) -> list[HitRow]:
    data = await graphql(credential, documents.SEARCH_QUERY, {"text": text})
    hits = parse_list(SearchHit, answer(data, "search"), "search")
    return [HitRow(h.kind, h.id, h.label, hit_href(h.kind, h.id)) for h in hits]


@dataclass
class FailureRow:
    code: str
    count: int
    last_at: str
    last_command: str


async def failures(credential: Credential) -> tuple[list[FailureRow], list[FailureRow]]:
    """Failed commands per error code, last hour and last 24 hours."""
    data = await graphql(credential, documents.FAILURES_BY_CODE_QUERY, {"hour": 3600, "day": 86400})

    def rows(name: str) -> list[FailureRow]:
        found = parse_list(FailureCount, answer(data, name), name)
        return [
            FailureRow(f.error_code, f.count, timestamp(f.last_at), f.last_command) for f in found
        ]

    return rows("hour"), rows("day")


@dataclass
class FailedRow:
    command: str
    code: str
    actor: str
    key: str
    merchant_id: str
    at: str


async def failed_commands(credential: Credential, window_s: int, code: str) -> list[FailedRow]:
    variables = {"windowS": window_s, "errorCode": code or None}
    data = await graphql(credential, documents.FAILED_COMMANDS_QUERY, variables)
    found = parse_list(FailedCommand, answer(data, "failedCommands"), "failedCommands")
    return [
        FailedRow(f.command, f.error_code, f.actor, f.idempotency_key, f.merchant_id or "",
                  timestamp(f.created_at))
        for f in found
    ]  # fmt: skip


async def access_lists(credential: Credential) -> AccessLists:
    data = await graphql(credential, documents.ACCESS_LISTS_QUERY)
    return parse(AccessLists, answer(data, "accessLists"), "accessLists.")


def transaction_update(value: dict[str, Any]) -> TxRow:
    """One result of the `transactions` subscription: a new ledger transaction."""
    return tx_row(parse(Transaction, answer(value, "transactions"), "transactions."))


def event_update(value: dict[str, Any]) -> Event:
    """One result of the `events` subscription."""
    return parse(Event, answer(value, "events"), "events.")


def outbox_values(status: OutboxStatus) -> tuple[int, str]:
    age = status.oldest_pending_age_s
    return status.pending_count, ("0 s" if age is None else f"{age:.1f} s")


async def outbox(credential: Credential) -> tuple[int, str]:
    data = await graphql(credential, documents.OUTBOX_QUERY)
    return outbox_values(parse(OutboxStatus, answer(data, "outboxStatus"), "outboxStatus."))


def outbox_update(value: dict[str, Any]) -> tuple[int, str]:
    """One result of the `outboxAge` subscription."""
    return outbox_values(parse(OutboxStatus, answer(value, "outboxAge"), "outboxAge."))


# --- templates, flags, API keys ----------------------------------------------------------------


async def templates(credential: Credential) -> tuple[Table, int]:
    """The templates table and how many are not loaded as the catalog has them."""
    rows = await _report(credential, documents.TEMPLATES_QUERY, "templates", TemplateInfo)
    return table_of(rows), sum(1 for t in rows if not t.matches)


async def feature_flags(credential: Credential) -> Table:
    return await _report_table(
        credential, documents.FEATURE_FLAGS_QUERY, "featureFlags", FeatureFlag
    )


async def api_keys(credential: Credential) -> Table:
    return await _report_table(credential, documents.API_KEYS_QUERY, "apiKeys", ApiKeyInfo)


async def create_api_key(
    credential: Credential, role: str, merchant_id: str | None, label: str
) -> CreatedApiKey | Refusal:
    data = await graphql(
        credential,
        documents.CREATE_API_KEY_MUTATION,
        {"role": role, "merchantId": merchant_id, "label": label},
    )
    result = answer(data, "createApiKey")
    if isinstance(result, dict) and result.get("__typename") == "CreatedApiKey":
        return parse(CreatedApiKey, result, "createApiKey.")
    return parse(Refusal, result, "createApiKey.")


async def revoke_api_key(credential: Credential, key_id: str) -> Refusal | None:
    """None when the key is revoked; the API's refusal otherwise."""
    data = await graphql(credential, documents.REVOKE_API_KEY_MUTATION, {"keyId": key_id})
    return refusal_or_none(answer(data, "revokeApiKey"), "revokeApiKey")


# --- statements and reporting -------------------------------------------------------------------


def statement_row(line: StatementLine) -> StatementRow:
    amount = line.amount_minor
    return StatementRow(
        tx_id=str(line.tx_id),
        effective_at=timestamp(line.effective_at),
        counterparty=f"{line.description or line.reference or ''} ({line.address})",
        before=format_minor(line.balance_before_minor, line.asset),
        change=("+" if amount > 0 else "") + format_minor(amount, line.asset),
        after=format_minor(line.balance_after_minor, line.asset),
    )


async def statement(
    credential: Credential,
    merchant_id: str,
    currency: str,
    first: int = PAGE_SIZE,
    after: str = "",
) -> tuple[list[StatementRow], Paged]:
    """A wallet's available account, newest first: each movement with its balance before and
    after (the API's `statements` read model, rebuilt from postings by the worker)."""
    data = await graphql(
        credential,
        documents.STATEMENTS_QUERY,
        {"merchantId": merchant_id, "currency": currency, "first": first, "after": after or None},
    )
    page = parse(StatementPage, answer(data, "statements"), "statements.")
    return [statement_row(r) for r in page.nodes], paged(page)


async def trial_balance(credential: Credential) -> tuple[bool, Table, Table]:
    data = await graphql(credential, documents.TRIAL_BALANCE_QUERY)
    report = parse(TrialBalance, answer(data, "trialBalance"), "trialBalance.")
    return report.foots, table_of(report.totals), table_of(report.lines)


async def alm(credential: Credential) -> tuple[Table, Table]:
    view = parse(Alm, answer(await graphql(credential, documents.ALM_QUERY), "alm"), "alm.")
    return table_of(view.summaries), table_of(view.lines)


async def coa_table(credential: Credential) -> Table:
    return await _report_table(credential, documents.COA_QUERY, "coa", CoaAccount)


async def gl_mappings_table(credential: Credential) -> Table:
    return await _report_table(credential, documents.GL_MAPPINGS_QUERY, "glMappings", GlMapping)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as the seeds' CSV (snake_case columns, booleans as true/false)."""
    buffer = io.StringIO()
    if not rows:
        return ""
    writer = csv.writer(buffer, lineterminator="\n")
    keys = list(rows[0])
    writer.writerow([_snake(k) for k in keys])
    for row in rows:
        writer.writerow(
            [
                str(v).lower() if isinstance(v, bool) else ("" if v is None else v)
                for v in row.values()
            ]
        )
    return buffer.getvalue()


async def coa_csv(credential: Credential) -> tuple[str, str]:
    """The loaded COA and GL mappings as the seeds' CSV files."""
    coa = await _report(credential, documents.COA_QUERY, "coa", CoaAccount)
    gl = await _report(credential, documents.GL_MAPPINGS_QUERY, "glMappings", GlMapping)
    return to_csv([wire(r) for r in coa]), to_csv([wire(r) for r in gl])

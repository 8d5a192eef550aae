"""Read models the pages show: each fixed document (`documents.py`) run over GraphQL, its answer
parsed into the typed results (`results.py`) and turned into display rows.

Reporting tables (`Table`) show every column their document selects, in the API's names; any
`…Minor` column is written with its row's currency scale. Nothing is discovered at run time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from walletflow_dashboard import documents
from walletflow_dashboard.api import ApiError, Credential, graphql
from walletflow_dashboard.commands import format_minor
from walletflow_dashboard.results import (
    Alm,
    ApiKeyInfo,
    CoaAccount,
    CommandStats,
    CreatedApiKey,
    DriftItem,
    Event,
    FeatureFlag,
    Gate,
    GlMapping,
    Hold,
    OutboxStatus,
    ProviderEvent,
    Refusal,
    StatementLine,
    TemplateInfo,
    Transaction,
    TrialBalance,
    Wallet,
    answer,
    parse,
    parse_list,
    refusal_or_none,
    wire,
)

T = TypeVar("T")

PAGE_SIZE = documents.PAGE_SIZE
MAX_SELECTION_DEPTH = 3
MAX_CELL_CHARS = 160


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
    checked = gate.checked_at[11:19]
    text = cell(gate.detail) if gate.detail not in (None, "", {}) else "—"
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


def wallet_row(w: Wallet) -> WalletRow:
    return WalletRow(
        merchant_id=w.merchant_id,
        currency=w.currency,
        available=w.balances.available.formatted,
        holds=w.balances.holds.formatted,
        reserve=w.balances.reserve.formatted,
        total=w.balances.total.formatted,
    )


async def wallets(credential: Credential, merchant_id: str = "") -> list[WalletRow]:
    data = await graphql(
        credential, documents.WALLETS_QUERY, {"merchantId": merchant_id or None, "first": PAGE_SIZE}
    )
    nodes = answer(answer(data, "wallets"), "nodes")
    return [wallet_row(w) for w in parse_list(Wallet, nodes, "wallets.nodes")]


def hold_row(h: Hold) -> HoldRow:
    return HoldRow(
        payout_id=h.payout_id,
        merchant_id=h.merchant_id,
        currency=h.currency,
        amount=h.formatted or format_minor(h.amount_minor, h.asset),
        provider=h.provider,
        state=h.state,
        reason=h.reason or "",
        age=(h.state_changed_at or h.created_at)[:19].replace("T", " "),
    )


async def holds(
    credential: Credential, state: str = "", merchant_id: str = "", older_than_s: str = ""
) -> list[HoldRow]:
    variables = {
        "state": state or None,
        "merchantId": merchant_id or None,
        "olderThanS": int(older_than_s) if older_than_s.strip().isdigit() else None,
        "first": PAGE_SIZE,
    }
    data = await graphql(credential, documents.HOLDS_QUERY, variables)
    nodes = answer(answer(data, "holds"), "nodes")
    return [hold_row(h) for h in parse_list(Hold, nodes, "holds.nodes")]


async def manual_review_queue(credential: Credential) -> list[HoldRow]:
    data = await graphql(credential, documents.MANUAL_REVIEW_QUEUE_QUERY)
    nodes = answer(answer(data, "manualReviewQueue"), "nodes")
    return [hold_row(h) for h in parse_list(Hold, nodes, "manualReviewQueue.nodes")]


def queue_update(value: dict[str, Any]) -> list[HoldRow]:
    """One result of the `manualReviewQueue` subscription: the whole queue."""
    queue = parse_list(Hold, answer(value, "manualReviewQueue"), "manualReviewQueue")
    return [hold_row(h) for h in queue]


def tx_row(tx: Transaction) -> TxRow:
    postings = tx.postings
    summary = "; ".join(f"{p.source} → {p.destination} {p.formatted}" for p in postings[:3]) + (
        f" (+{len(postings) - 3} more)" if len(postings) > 3 else ""
    )
    return TxRow(
        tx_id=str(tx.id),
        reference=tx.reference or "",
        effective_at=tx.effective_at[:19].replace("T", " "),
        summary=summary,
    )


async def recent_transactions(credential: Credential, first: int = 20) -> list[TxRow]:
    data = await graphql(credential, documents.TRANSACTIONS_QUERY, {"first": first})
    nodes = answer(answer(data, "transactions"), "nodes")
    return [tx_row(tx) for tx in parse_list(Transaction, nodes, "transactions.nodes")]


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
        effective_at=line.effective_at[:19].replace("T", " "),
        counterparty=f"{line.description or line.reference or ''} ({line.address})",
        before=format_minor(line.balance_before_minor, line.asset),
        change=("+" if amount > 0 else "") + format_minor(amount, line.asset),
        after=format_minor(line.balance_after_minor, line.asset),
    )


async def statement(
    credential: Credential, merchant_id: str, currency: str
) -> tuple[list[StatementRow], str]:
    """A wallet's available account: each movement with its balance before and after (the API's
    `statements` read model)."""
    data = await graphql(
        credential,
        documents.STATEMENTS_QUERY,
        {"merchantId": merchant_id, "currency": currency, "first": PAGE_SIZE},
    )
    nodes = answer(answer(data, "statements"), "nodes")
    rows = [statement_row(r) for r in parse_list(StatementLine, nodes, "statements.nodes")]
    return rows, "the statements read model (rebuilt from postings by the worker)"


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

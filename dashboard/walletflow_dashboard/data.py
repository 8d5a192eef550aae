"""Read models the pages show, fetched over GraphQL and turned into display rows.

Queries the schema already has are written out; reporting queries that are still landing
(gates, trialBalance, alm, coa, glMappings, drift, statements, …) are discovered by
introspection and rendered generically (`Table`), so a page lights up as soon as the API has
them, with no dashboard change.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from walletflow_dashboard.api import ApiError, Credential, graphql
from walletflow_dashboard.commands import format_minor

PAGE_SIZE = 50
MAX_SELECTION_DEPTH = 3
MAX_CELL_CHARS = 160

INTROSPECTION_QUERY = """
query Introspect {
  __schema {
    queryType { name } subscriptionType { name }
    types {
      name kind
      fields {
        name
        args { name defaultValue type { kind name ofType { kind name ofType { kind name } } } }
        type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
      }
    }
  }
}
"""


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
    """What the API offers: query and subscription fields, and how to select each."""

    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
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


def _non_null(type_ref: dict[str, Any]) -> bool:
    return type_ref.get("kind") == "NON_NULL"


def _required(arg: dict[str, Any]) -> bool:
    """A non-null argument without a default must be given."""
    return _non_null(arg["type"]) and arg.get("defaultValue") is None


async def load_schema(credential: Credential) -> Schema:
    try:
        data = await graphql(credential, INTROSPECTION_QUERY)
    except ApiError:
        return Schema()  # introspection off (production): only the written-out queries
    schema = data["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    query_name = (schema.get("queryType") or {}).get("name") or "Query"
    sub_name = (schema.get("subscriptionType") or {}).get("name") or "Subscription"

    def fields_of(name: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in (types.get(name) or {}).get("fields") or []}

    return Schema(queries=fields_of(query_name), subscriptions=fields_of(sub_name), types=types)


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


async def generic_query(
    credential: Credential, schema: Schema, name: str, args: dict[str, Any] | None = None
) -> tuple[Any, str]:
    """Run a discovered query with every scalar field selected; (value, note)."""
    spec = schema.queries.get(name)
    if spec is None:
        return None, f"the API has no `{name}` query yet"
    declared = {a["name"]: a for a in spec.get("args") or []}
    given = {k: v for k, v in (args or {}).items() if k in declared and v not in (None, "")}
    missing = [a for a, d in declared.items() if _required(d) and a not in given]
    if missing:
        return None, f"`{name}` needs {', '.join(missing)}"
    if "first" in declared and "first" not in given:
        given["first"] = PAGE_SIZE
    arg_text = ", ".join(f"{k}: {json.dumps(v)}" for k, v in given.items())
    selection = schema.selection(spec["type"])
    document = "{ v: " + name + (f"({arg_text})" if arg_text else "") + f" {selection} }}"
    try:
        data = await graphql(credential, document)
    except ApiError as error:
        return None, f"{error.code}: {error.message}"
    return data.get("v"), ""


async def generic_table(
    credential: Credential, schema: Schema, name: str, args: dict[str, Any] | None = None
) -> Table:
    value, note = await generic_query(credential, schema, name, args)
    if note:
        return Table(note=note)
    return to_table(flatten(value))


def gate_rows(value: Any) -> list[GateRow]:
    """Gates in whatever shape the API lands them: a list, or an object keyed by gate."""
    rows: list[GateRow] = []
    items: list[tuple[str, Any]]
    if isinstance(value, dict) and not any(k in value for k in ("name", "gate")):
        items = [(k, v) for k, v in value.items() if isinstance(v, dict)]
        if not items and isinstance(value.get("gates"), list):
            items = [("", v) for v in value["gates"]]
    else:
        items = [("", v) for v in flatten(value)]
    for key, gate in items:
        if not isinstance(gate, dict):
            continue
        name = str(gate.get("name") or gate.get("gate") or key or "gate")
        ok_value = next(
            (gate[k] for k in ("ok", "green", "passed", "healthy") if k in gate),
            str(gate.get("status", "")).lower() in ("green", "ok", "pass", "passed"),
        )
        rest = {k: v for k, v in gate.items() if k not in ("name", "gate", "ok", "green")}
        detail = gate.get("detail", rest)
        checked = str(gate.get("checkedAt") or "")[11:19]
        text = cell(detail) if detail not in (None, "", {}) else "—"
        rows.append(
            GateRow(
                name=name,
                ok=bool(ok_value),
                detail=(f"checked {checked} · " if checked else "") + text,
            )
        )
    return rows


WALLETS_QUERY = """
query Wallets($merchantId: String, $first: Int) {
  wallets(merchantId: $merchantId, first: $first) { nodes {
    merchantId currency asset
    balances { available { formatted } holds { formatted } reserve { formatted }
               total { formatted } }
  } }
}
"""


async def wallets(credential: Credential, merchant_id: str = "") -> list[WalletRow]:
    data = await graphql(
        credential, WALLETS_QUERY, {"merchantId": merchant_id or None, "first": PAGE_SIZE}
    )
    return [
        WalletRow(
            merchant_id=w["merchantId"],
            currency=w["currency"],
            available=w["balances"]["available"]["formatted"],
            holds=w["balances"]["holds"]["formatted"],
            reserve=w["balances"]["reserve"]["formatted"],
            total=w["balances"]["total"]["formatted"],
        )
        for w in data["wallets"]["nodes"]
    ]


HOLD_FIELDS = "payoutId merchantId currency asset amountMinor provider state reason createdAt \
stateChangedAt formatted"
HOLDS_QUERY = f"""
query Holds($state: String, $merchantId: String, $olderThanS: Int, $first: Int) {{
  holds(state: $state, merchantId: $merchantId, olderThanS: $olderThanS, first: $first) {{
    nodes {{ {HOLD_FIELDS} }}
  }}
}}
"""
QUEUE_QUERY = (
    f"query Queue {{ manualReviewQueue(first: {PAGE_SIZE}) {{ nodes {{ {HOLD_FIELDS} }} }} }}"
)
QUEUE_SUBSCRIPTION = f"subscription Queue {{ manualReviewQueue {{ {HOLD_FIELDS} }} }}"


def hold_row(h: dict[str, Any]) -> HoldRow:
    return HoldRow(
        payout_id=h["payoutId"],
        merchant_id=h["merchantId"],
        currency=h["currency"],
        amount=h.get("formatted") or format_minor(int(h["amountMinor"]), h["asset"]),
        provider=h["provider"],
        state=h["state"],
        reason=h.get("reason") or "",
        age=str(h.get("stateChangedAt") or h.get("createdAt") or "")[:19].replace("T", " "),
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
    data = await graphql(credential, HOLDS_QUERY, variables)
    return [hold_row(h) for h in data["holds"]["nodes"]]


async def manual_review_queue(credential: Credential) -> list[HoldRow]:
    data = await graphql(credential, QUEUE_QUERY)
    return [hold_row(h) for h in data["manualReviewQueue"]["nodes"]]


TX_FIELDS = "id reference effectiveAt metadata postings { source destination asset amountMinor \
formatted }"
TRANSACTIONS_QUERY = f"""
query Recent($first: Int) {{ transactions(first: $first) {{ nodes {{ {TX_FIELDS} }} }} }}
"""
TRANSACTIONS_SUBSCRIPTION = f"subscription Tx {{ transactions {{ {TX_FIELDS} }} }}"
OUTBOX_QUERY = "query Outbox { outboxStatus { pendingCount oldestPendingAgeS } }"
# intervalS stays under the API's Redis socket timeout (5 s): a longer XREAD BLOCK times out.
OUTBOX_SUBSCRIPTION = (
    "subscription Outbox { outboxAge(intervalS: 3) { pendingCount oldestPendingAgeS } }"
)
EVENTS_SUBSCRIPTION = "subscription Events { events { eventId type merchantId payload } }"


def tx_row(tx: dict[str, Any]) -> TxRow:
    postings = tx.get("postings") or []
    summary = "; ".join(
        f"{p['source']} → {p['destination']} {p['formatted']}" for p in postings[:3]
    ) + (f" (+{len(postings) - 3} more)" if len(postings) > 3 else "")
    return TxRow(
        tx_id=str(tx["id"]),
        reference=str(tx.get("reference") or ""),
        effective_at=str(tx.get("effectiveAt") or "")[:19].replace("T", " "),
        summary=summary,
    )


async def recent_transactions(credential: Credential, first: int = 20) -> list[TxRow]:
    data = await graphql(credential, TRANSACTIONS_QUERY, {"first": first})
    return [tx_row(tx) for tx in data["transactions"]["nodes"]]


async def outbox(credential: Credential) -> tuple[int, str]:
    data = await graphql(credential, OUTBOX_QUERY)
    return outbox_values(data["outboxStatus"])


def outbox_values(status: dict[str, Any]) -> tuple[int, str]:
    age = status.get("oldestPendingAgeS")
    return int(status.get("pendingCount") or 0), ("0 s" if age is None else f"{float(age):.1f} s")


TEMPLATES_QUERY = "query T { templates { name sha256 loaded loadedSha256 loadedAt } }"


async def templates(credential: Credential) -> tuple[Table, int]:
    data = await graphql(credential, TEMPLATES_QUERY)
    rows = data["templates"]
    mismatches = sum(1 for t in rows if not t["loaded"] or t["loadedSha256"] != t["sha256"])
    return to_table(rows), mismatches


FLAGS_QUERY = "query F { featureFlags { scopeType scopeValue enabled updatedBy updatedAt } }"
API_KEYS_QUERY = (
    "query K { apiKeys { keyId role merchantId label createdBy createdAt expiresAt revokedAt } }"
)
CREATE_API_KEY = """
mutation CreateKey($role: String!, $merchantId: String, $label: String!) {
  createApiKey(role: $role, merchantId: $merchantId, label: $label) {
    __typename
    ... on CreatedApiKey { token key { keyId } }
    ... on Error { code message }
  }
}
"""
REVOKE_API_KEY = """
mutation Revoke($keyId: String!) {
  revokeApiKey(keyId: $keyId) { __typename ... on Error { code message } }
}
"""

BALANCES_QUERY = """
query B($accounts: [String!]) { balances(accounts: $accounts) { account asset balanceMinor } }
"""
POSTINGS_QUERY = """
query P($account: String!, $first: Int) {
  postings(account: $account, first: $first) {
    nodes { txId ordinal source destination asset amountMinor effectiveAt }
  }
}
"""


async def statement(
    credential: Credential, schema: Schema, merchant_id: str, currency: str
) -> tuple[list[StatementRow], str]:
    """A wallet's available account: each movement with its balance before and after.

    Uses the API's `statements` read model when it has one; until then, derives the same
    lines from the ledger's postings and the current balance (walking back from now).
    """
    account = f"merchants:{merchant_id}:{currency}:available"
    if "statements" in schema.queries:
        answer = await graphql(
            credential,
            STATEMENTS_QUERY,
            {"merchantId": merchant_id, "currency": currency, "first": PAGE_SIZE},
        )
        rows = [_statement_row(r) for r in answer["statements"]["nodes"]]
        return rows, "the statements read model (rebuilt from postings by the worker)"
    data = await graphql(credential, BALANCES_QUERY, {"accounts": [account]})
    balances = data["balances"]
    if not balances:
        return [], f"{account} has no postings yet"
    asset = balances[0]["asset"]
    after = int(balances[0]["balanceMinor"])
    data = await graphql(credential, POSTINGS_QUERY, {"account": account, "first": PAGE_SIZE})
    rows: list[StatementRow] = []
    for p in data["postings"]["nodes"]:  # newest first
        amount = int(p["amountMinor"])
        change = amount if p["destination"] == account else -amount
        before = after - change
        rows.append(
            StatementRow(
                tx_id=str(p["txId"]),
                effective_at=str(p["effectiveAt"])[:19].replace("T", " "),
                counterparty=p["source"] if change > 0 else p["destination"],
                before=format_minor(before, asset),
                change=("+" if change > 0 else "") + format_minor(change, asset),
                after=format_minor(after, asset),
            )
        )
        after = before
    return rows, f"derived from ledger postings of {account}"


STATEMENTS_QUERY = """
query S($merchantId: String!, $currency: String!, $first: Int) {
  statements(merchantId: $merchantId, currency: $currency, first: $first) {
    nodes { txId address asset amountMinor balanceBeforeMinor balanceAfterMinor effectiveAt
            reference description }
  }
}
"""


def _statement_row(r: dict[str, Any]) -> StatementRow:
    asset = str(r["asset"])
    amount = int(r["amountMinor"])
    return StatementRow(
        tx_id=str(r["txId"]),
        effective_at=str(r["effectiveAt"])[:19].replace("T", " "),
        counterparty=f"{r.get('description') or r.get('reference') or ''} ({r['address']})",
        before=format_minor(int(r["balanceBeforeMinor"]), asset),
        change=("+" if amount > 0 else "") + format_minor(amount, asset),
        after=format_minor(int(r["balanceAfterMinor"]), asset),
    )


TRIAL_BALANCE_QUERY = """
query TB {
  trialBalance {
    foots
    totals { asset debitMinor creditMinor netMinor foots }
    lines { asset code name accountClass normalBalance accounts debitMinor creditMinor
            balanceMinor abnormal }
  }
}
"""
ALM_QUERY = """
query Alm {
  alm {
    summaries { asset currency assetsMinor liabilitiesMinor netPositionMinor byClassMinor
                unmappedMinor }
    lines { asset currency accountClass code name balanceMinor }
  }
}
"""


async def trial_balance(credential: Credential) -> tuple[bool, Table, Table]:
    report = (await graphql(credential, TRIAL_BALANCE_QUERY))["trialBalance"]
    return bool(report["foots"]), to_table(report["totals"]), to_table(report["lines"])


async def alm(credential: Credential) -> tuple[Table, Table]:
    view = (await graphql(credential, ALM_QUERY))["alm"]
    return to_table(view["summaries"]), to_table(view["lines"])


COA_QUERY = """
query Coa { coa { code name kind accountClass normalBalance addressPattern mayGoNegative } }
"""
GL_QUERY = """
query Gl { glMappings { template leg sourceKind destinationKind debitCode creditCode description } }
"""


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
    coa = (await graphql(credential, COA_QUERY))["coa"]
    gl = (await graphql(credential, GL_QUERY))["glMappings"]
    return to_csv(coa), to_csv(gl)

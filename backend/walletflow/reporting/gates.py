"""The gates, each green or red with detail an operator can act on.

- `books_foot`: every asset sums to zero over the postings and over the volume cache, and the
  cache equals the postings account by account.
- `holds`: each open hold (reserved / manual_review) row's amount equals its ledger hold
  sub-account's balance; settled and released holds' sub-accounts are empty; no hold
  sub-account holds money without a hold row.
- `statements`: after an incremental rebuild, the read model is up to date and, per wallet
  account, its lines sum to the ledger balance (over the applied transactions), its last
  running balance equals it, and the running balances chain without gaps.
- `coa_templates`: no drift between the seeds, the loaded COA/GL tables, the classifier and
  the loaded templates (see `coa.drift`).
- `suspense`: every open suspense item (a correction not yet explained) is younger than
  `suspense_max_age_days`; each open item is listed with its reason, evidence, amount and age.

Each gate is one SQL query (the COA gate reads a few small tables); detail lists are capped at
`MAX_DETAIL_ITEMS`, with the full count alongside.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.coa.drift import coa_drift
from walletflow.ledger.templates import TemplateCatalog
from walletflow.money import Money
from walletflow.reporting.statements import (
    WALLET_ACCOUNT_RE,
    pending_transactions,
    read_cursor,
    rebuild_statements,
)

MAX_DETAIL_ITEMS = 50
SUSPENSE_ACCOUNT_RE = r"^suspense:[^:]+[:]adjustments$"  # [:] keeps text() from binding it
GATE_NAMES: tuple[str, ...] = ("books_foot", "holds", "statements", "coa_templates", "suspense")
DEFAULT_SUSPENSE_MAX_AGE_DAYS = 3


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    detail: dict[str, Any]
    checked_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "status": "green" if self.ok else "red",
            "detail": self.detail,
            "checkedAt": self.checked_at.isoformat(),
        }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_BOOKS_FOOT_SQL = f"""
WITH p AS (
    SELECT account, asset, sum(delta) AS balance FROM (
        SELECT destination AS account, asset, amount AS delta FROM ledger_postings
        UNION ALL
        SELECT source, asset, -amount FROM ledger_postings) x
     GROUP BY account, asset
), v AS (
    SELECT account, asset, sum(input - output) AS balance FROM ledger_volumes
     GROUP BY account, asset
), joined AS (
    SELECT coalesce(p.account, v.account) AS account, coalesce(p.asset, v.asset) AS asset,
           coalesce(p.balance, 0) AS postings_minor, coalesce(v.balance, 0) AS volumes_minor
      FROM p FULL JOIN v ON p.account = v.account AND p.asset = v.asset
), assets AS (
    SELECT asset, sum(postings_minor) AS postings_sum_minor,
           sum(volumes_minor) AS volumes_sum_minor, count(*) AS accounts
      FROM joined GROUP BY asset
)
SELECT
  (SELECT coalesce(json_agg(a ORDER BY a.asset), '[]'::json) FROM assets a) AS assets,
  (SELECT coalesce(json_agg(m), '[]'::json) FROM (
        SELECT account, asset, postings_minor, volumes_minor FROM joined
         WHERE postings_minor <> volumes_minor ORDER BY account, asset
         LIMIT {MAX_DETAIL_ITEMS}) m) AS cache_mismatches,
  (SELECT count(*) FROM joined WHERE postings_minor <> volumes_minor) AS cache_mismatch_count
"""


async def gate_books_foot(connection: AsyncConnection) -> tuple[bool, dict[str, Any]]:
    row = (await connection.execute(text(_BOOKS_FOOT_SQL))).one()
    assets = _json(row.assets)
    unbalanced = [
        a for a in assets if int(a["postings_sum_minor"]) != 0 or int(a["volumes_sum_minor"]) != 0
    ]
    mismatch_count = int(row.cache_mismatch_count)
    detail = {
        "assets": len(assets),
        "unbalancedAssets": [
            {
                "asset": a["asset"],
                "postingsSumMinor": int(a["postings_sum_minor"]),
                "volumesSumMinor": int(a["volumes_sum_minor"]),
            }
            for a in unbalanced[:MAX_DETAIL_ITEMS]
        ],
        "cacheMismatchCount": mismatch_count,
        "cacheMismatches": [
            {
                "account": m["account"],
                "asset": m["asset"],
                "postingsMinor": int(m["postings_minor"]),
                "volumesMinor": int(m["volumes_minor"]),
            }
            for m in _json(row.cache_mismatches)
        ],
    }
    return not unbalanced and mismatch_count == 0, detail


_HOLDS_SQL = f"""
WITH h AS (
    SELECT payout_id, state, asset, amount_minor,
           'merchants:' || merchant_id || ':' || currency || ':holds:' || payout_id AS account
      FROM holds
), v AS (
    SELECT account, asset, sum(input - output) AS balance FROM ledger_volumes
     WHERE account LIKE 'merchants:%' AND account ~ '^merchants:[^:]+:[^:]+:holds:[^:]+$'
     GROUP BY account, asset
), joined AS (
    SELECT h.payout_id, h.state, h.amount_minor, coalesce(h.account, v.account) AS account,
           coalesce(h.asset, v.asset) AS asset, coalesce(v.balance, 0) AS ledger_minor,
           CASE
             WHEN h.payout_id IS NULL THEN 'ledger_hold_without_row'
             WHEN h.state IN ('reserved', 'manual_review')
                  AND coalesce(v.balance, 0) <> h.amount_minor THEN 'open_hold_amount_differs'
             WHEN h.state IN ('settled', 'released')
                  AND coalesce(v.balance, 0) <> 0 THEN 'closed_hold_not_empty'
           END AS problem
      FROM h FULL JOIN v ON h.account = v.account AND h.asset = v.asset
     WHERE h.payout_id IS NOT NULL OR v.balance <> 0
)
SELECT
  (SELECT count(*) FROM joined WHERE payout_id IS NOT NULL) AS hold_rows,
  (SELECT count(*) FROM joined WHERE state IN ('reserved', 'manual_review')) AS open_holds,
  (SELECT coalesce(sum(amount_minor), 0) FROM joined
    WHERE state IN ('reserved', 'manual_review')) AS open_amount_minor,
  (SELECT count(*) FROM joined WHERE problem IS NOT NULL) AS problem_count,
  (SELECT coalesce(json_agg(x), '[]'::json) FROM (
        SELECT payout_id, state, account, asset, amount_minor, ledger_minor, problem
          FROM joined WHERE problem IS NOT NULL ORDER BY account, asset
         LIMIT {MAX_DETAIL_ITEMS}) x) AS problems
"""


async def gate_holds(connection: AsyncConnection) -> tuple[bool, dict[str, Any]]:
    row = (await connection.execute(text(_HOLDS_SQL))).one()
    problem_count = int(row.problem_count)
    detail = {
        "holdRows": int(row.hold_rows),
        "openHolds": int(row.open_holds),
        "openAmountMinor": int(row.open_amount_minor),
        "problemCount": problem_count,
        "problems": [
            {
                "problem": p["problem"],
                "payoutId": p["payout_id"],
                "state": p["state"],
                "account": p["account"],
                "asset": p["asset"],
                "holdAmountMinor": None if p["amount_minor"] is None else int(p["amount_minor"]),
                "ledgerMinor": int(p["ledger_minor"]),
            }
            for p in _json(row.problems)
        ],
    }
    return problem_count == 0, detail


# The ledger side sums postings of the transactions the read model has applied (those up to
# the cursor), so a command committing while the gate runs cannot make it red.
_STATEMENTS_SQL = f"""
WITH applied AS (
    SELECT id FROM ledger_transactions WHERE (xid, id) <= (:last_xid, :last_tx_id)
), legs AS (
    SELECT p.destination AS address, p.asset, p.amount AS delta
      FROM ledger_postings p JOIN applied a ON a.id = p.tx_id
     WHERE p.destination LIKE 'merchants:%' AND p.destination ~ '{WALLET_ACCOUNT_RE}'
    UNION ALL
    SELECT p.source, p.asset, -p.amount
      FROM ledger_postings p JOIN applied a ON a.id = p.tx_id
     WHERE p.source LIKE 'merchants:%' AND p.source ~ '{WALLET_ACCOUNT_RE}'
), ledger AS (
    SELECT split_part(address, ':', 2) AS merchant_id, split_part(address, ':', 3) AS currency,
           split_part(address, ':', 4) AS wallet_account, asset, sum(delta) AS balance
      FROM legs GROUP BY 1, 2, 3, 4
), chained AS (
    SELECT merchant_id, currency, wallet_account, asset, seq, amount_minor,
           balance_before_minor, balance_after_minor,
           lag(balance_after_minor, 1, 0::numeric) OVER w AS previous_after,
           row_number() OVER (PARTITION BY merchant_id, currency, wallet_account, asset
                              ORDER BY seq DESC) AS from_end
      FROM statement_lines
    WINDOW w AS (PARTITION BY merchant_id, currency, wallet_account, asset ORDER BY seq)
), model AS (
    SELECT merchant_id, currency, wallet_account, asset, sum(amount_minor) AS lines_sum,
           max(balance_after_minor) FILTER (WHERE from_end = 1) AS last_balance,
           count(*) FILTER (WHERE balance_before_minor <> previous_after) AS chain_breaks,
           count(*) AS lines
      FROM chained GROUP BY 1, 2, 3, 4
), joined AS (
    SELECT coalesce(l.merchant_id, m.merchant_id) AS merchant_id,
           coalesce(l.currency, m.currency) AS currency,
           coalesce(l.wallet_account, m.wallet_account) AS wallet_account,
           coalesce(l.asset, m.asset) AS asset,
           coalesce(l.balance, 0) AS ledger_minor,
           coalesce(m.lines_sum, 0) AS lines_sum_minor,
           coalesce(m.last_balance, 0) AS last_balance_minor,
           coalesce(m.chain_breaks, 0) AS chain_breaks,
           coalesce(m.lines, 0) AS lines
      FROM ledger l FULL JOIN model m
        ON l.merchant_id = m.merchant_id AND l.currency = m.currency
       AND l.wallet_account = m.wallet_account AND l.asset = m.asset
)
SELECT
  (SELECT count(*) FROM joined) AS wallet_accounts,
  (SELECT coalesce(sum(lines), 0) FROM joined) AS lines,
  (SELECT count(*) FROM joined
    WHERE ledger_minor <> lines_sum_minor OR ledger_minor <> last_balance_minor
       OR chain_breaks > 0) AS problem_count,
  (SELECT coalesce(json_agg(x), '[]'::json) FROM (
        SELECT * FROM joined
         WHERE ledger_minor <> lines_sum_minor OR ledger_minor <> last_balance_minor
            OR chain_breaks > 0
         ORDER BY merchant_id, currency, wallet_account, asset
         LIMIT {MAX_DETAIL_ITEMS}) x) AS problems
"""


async def gate_statements(
    connection: AsyncConnection, *, refresh: bool = True
) -> tuple[bool, dict[str, Any]]:
    rebuilt = await rebuild_statements(connection, full=False) if refresh else None
    cursor = await read_cursor(connection)
    stale = await pending_transactions(connection, cursor)
    row = (
        await connection.execute(
            text(_STATEMENTS_SQL),
            {"last_xid": cursor.last_xid, "last_tx_id": cursor.last_tx_id},
        )
    ).one()
    problem_count = int(row.problem_count)
    detail = {
        "refreshedTransactions": rebuilt.transactions if rebuilt is not None else 0,
        "lastTxId": cursor.last_tx_id if cursor.last_tx_id >= 0 else None,
        "pendingTransactions": stale,
        "walletAccounts": int(row.wallet_accounts),
        "lines": int(row.lines),
        "problemCount": problem_count,
        "problems": [
            {
                "merchantId": p["merchant_id"],
                "currency": p["currency"],
                "walletAccount": p["wallet_account"],
                "asset": p["asset"],
                "ledgerMinor": int(p["ledger_minor"]),
                "linesSumMinor": int(p["lines_sum_minor"]),
                "lastBalanceMinor": int(p["last_balance_minor"]),
                "chainBreaks": int(p["chain_breaks"]),
            }
            for p in _json(row.problems)
        ],
    }
    return problem_count == 0 and stale == 0, detail


async def gate_coa_templates(
    connection: AsyncConnection, templates: TemplateCatalog, seeds_dir: Path | None = None
) -> tuple[bool, dict[str, Any]]:
    drift = await coa_drift(connection, templates, seeds_dir)
    detail = {
        "driftCount": len(drift),
        "drift": [item.to_json() for item in drift[:MAX_DETAIL_ITEMS]],
        "templates": len(templates.names()),
    }
    return not drift, detail


# Open suspense items, first in first out: per (suspense account, asset) the balance is made of
# the newest legs of its sign; an opposite leg (a correction the other way, a reversal) clears
# the oldest items first. A leg is open for the part of the balance that newer legs of the same
# sign do not cover. Ages count from when the item was recorded (`inserted_at`), so a
# back-dated correction is not overdue the moment it is entered.
_SUSPENSE_SQL = f"""
WITH legs AS (
    SELECT p.tx_id, p.ordinal, p.destination AS account, p.source AS counter_account, p.asset,
           p.amount AS delta
      FROM ledger_postings p
     WHERE p.destination LIKE 'suspense:%' AND p.destination ~ '{SUSPENSE_ACCOUNT_RE}'
    UNION ALL
    SELECT p.tx_id, p.ordinal, p.source, p.destination, p.asset, -p.amount
      FROM ledger_postings p
     WHERE p.source LIKE 'suspense:%' AND p.source ~ '{SUSPENSE_ACCOUNT_RE}'
), totals AS (
    SELECT account, asset, sum(delta) AS balance FROM legs GROUP BY account, asset
), candidates AS (
    SELECT l.*, t.balance,
           coalesce(sum(abs(l.delta)) OVER (
               PARTITION BY l.account, l.asset ORDER BY l.tx_id DESC, l.ordinal DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS newer_minor
      FROM legs l JOIN totals t ON t.account = l.account AND t.asset = l.asset
     WHERE t.balance <> 0 AND sign(l.delta) = sign(t.balance)
), open_items AS (
    SELECT c.tx_id, c.account, c.counter_account, c.asset,
           sign(c.delta) * least(abs(c.delta), abs(c.balance) - c.newer_minor) AS open_minor,
           tx.inserted_at, tx.metadata ->> 'reason' AS reason,
           tx.metadata ->> 'evidence' AS evidence, tx.metadata ->> 'command' AS command
      FROM candidates c JOIN ledger_transactions tx ON tx.id = c.tx_id
     WHERE c.newer_minor < abs(c.balance)
)
SELECT
  (SELECT count(*) FROM open_items) AS open_count,
  (SELECT count(*) FROM open_items WHERE inserted_at < :overdue_before) AS overdue_count,
  (SELECT coalesce(json_agg(b ORDER BY b.account, b.asset), '[]'::json)
     FROM (SELECT account, asset, balance FROM totals WHERE balance <> 0) b) AS balances,
  (SELECT coalesce(json_agg(x), '[]'::json) FROM (
        SELECT * FROM open_items ORDER BY inserted_at, tx_id
         LIMIT {MAX_DETAIL_ITEMS}) x) AS items
"""


def _formatted(asset: str, amount_minor: int) -> str:
    return Money.of_minor(amount_minor, asset).format()


async def gate_suspense(
    connection: AsyncConnection, *, now: datetime, max_age_days: int
) -> tuple[bool, dict[str, Any]]:
    assert max_age_days >= 1, max_age_days
    overdue_before = now - timedelta(days=max_age_days)
    row = (await connection.execute(text(_SUSPENSE_SQL), {"overdue_before": overdue_before})).one()
    items = []
    for item in _json(row.items):
        recorded_at = datetime.fromisoformat(item["inserted_at"])
        open_minor = int(item["open_minor"])
        items.append(
            {
                "transactionId": int(item["tx_id"]),
                "account": item["account"],
                "counterAccount": item["counter_account"],
                "command": item["command"],
                "reason": item["reason"],
                "evidence": item["evidence"],
                "asset": item["asset"],
                "amountMinor": open_minor,
                "formatted": _formatted(item["asset"], open_minor),
                "recordedAt": recorded_at.isoformat(),
                "ageS": max(0, int((now - recorded_at).total_seconds())),
                "overdue": recorded_at < overdue_before,
            }
        )
    overdue_count = int(row.overdue_count)
    detail = {
        "maxAgeDays": max_age_days,
        "openItems": int(row.open_count),
        "overdueItems": overdue_count,
        "balances": [
            {
                "account": b["account"],
                "asset": b["asset"],
                "balanceMinor": int(b["balance"]),
                "formatted": _formatted(b["asset"], int(b["balance"])),
            }
            for b in _json(row.balances)
        ],
        "items": items,
    }
    return overdue_count == 0, detail


async def run_gates(
    connection: AsyncConnection,
    templates: TemplateCatalog,
    *,
    seeds_dir: Path | None = None,
    refresh_statements: bool = True,
    now: datetime | None = None,
    suspense_max_age_days: int = DEFAULT_SUSPENSE_MAX_AGE_DAYS,
) -> list[GateResult]:
    """Run the gates in order. With `refresh_statements` (the default) the statements gate
    first applies new ledger transactions to the read model, in this transaction."""
    checked_at = now or datetime.now(UTC)
    checks: tuple[tuple[str, Callable[[], Awaitable[tuple[bool, dict[str, Any]]]]], ...] = (
        ("books_foot", lambda: gate_books_foot(connection)),
        ("holds", lambda: gate_holds(connection)),
        ("statements", lambda: gate_statements(connection, refresh=refresh_statements)),
        ("coa_templates", lambda: gate_coa_templates(connection, templates, seeds_dir)),
        (
            "suspense",
            lambda: gate_suspense(connection, now=checked_at, max_age_days=suspense_max_age_days),
        ),
    )
    results: list[GateResult] = []
    for name, check in checks:
        ok, detail = await check()
        results.append(GateResult(name=name, ok=ok, detail=detail, checked_at=checked_at))
    return results

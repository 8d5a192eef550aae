"""The invariant checker every reliability test runs: what must hold after anything at all.

1. The books foot: per asset, the balances of all accounts sum to zero; the volume cache equals
   the postings.
2. No account the overdraft policy protects is negative.
3. Every hold row matches its ledger sub-account (open → its amount, completed → zero), and no
   hold sub-account holds money without a row.
4. The statements read model matches the ledger (when the reporting layer is present).
5. Every idempotency claim of a money command maps to exactly one ledger transaction, and every
   command-made transaction to exactly one claim.
6. The hash chain verifies from genesis (after sealing what has committed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from walletflow.ledger.pg import PostgresLedger
from walletflow.ledger.policy import DEFAULT_POLICY

MAX_DETAIL_ROWS = 20


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: dict[str, Any] = field(default_factory=dict)


async def check_invariants(engine: AsyncEngine, *, statements: bool = True) -> list[Violation]:
    violations: list[Violation] = []
    async with engine.connect() as connection:
        for name, query in _SQL_CHECKS.items():
            rows = (await connection.execute(text(query))).mappings().all()
            violations.extend(Violation(name, dict(row)) for row in rows[:MAX_DETAIL_ROWS])
        negative = await connection.execute(
            text(
                "SELECT account, asset, SUM(input - output) AS balance FROM ledger_volumes "
                "GROUP BY account, asset HAVING SUM(input - output) < 0"
            )
        )
        for row in negative.mappings():
            if not DEFAULT_POLICY.may_go_negative(row["account"]):
                violations.append(Violation("protected_account_negative", dict(row)))
    if statements:
        violations.extend(await _statement_violations(engine))
    ledger = PostgresLedger(engine)
    await ledger.seal()
    report = await ledger.verify()
    if report.first_broken_link is not None:
        violations.append(Violation("hash_chain", {"link": str(report.first_broken_link)}))
    for mismatch in report.volume_mismatches[:MAX_DETAIL_ROWS]:
        violations.append(Violation("volumes_equal_postings", dict(mismatch)))
    return violations


async def _statement_violations(engine: AsyncEngine) -> list[Violation]:
    try:
        from walletflow.ledger.templates import TemplateCatalog
        from walletflow.reporting.gates import run_gates
        from walletflow.reporting.statements import rebuild_statements
    except ImportError:  # the reporting layer is not in this build
        return []
    async with engine.begin() as connection:
        await rebuild_statements(connection, full=False)
    async with engine.connect() as connection:
        results = await run_gates(connection, TemplateCatalog())
    return [
        Violation(f"gate_{result.name}", dict(result.detail))
        for result in results
        if not result.ok and result.name in {"statements", "holds", "books_foot"}
    ]


_SQL_CHECKS: dict[str, str] = {
    "books_foot": """
        SELECT asset, SUM(input - output) AS total
        FROM ledger_volumes GROUP BY asset HAVING SUM(input - output) <> 0
    """,
    "hold_matches_ledger": """
        WITH hold_balances AS (
            SELECT h.payout_id, h.state, h.amount_minor,
                   COALESCE(SUM(v.input - v.output), 0) AS ledger_minor
            FROM holds h
            LEFT JOIN ledger_volumes v
              ON v.account = 'merchants:' || h.merchant_id || ':' || h.currency
                             || ':holds:' || h.payout_id
             AND v.asset = h.asset
            GROUP BY h.payout_id, h.state, h.amount_minor
        )
        SELECT payout_id, state, amount_minor, ledger_minor FROM hold_balances
        WHERE ledger_minor <> CASE WHEN state IN ('reserved', 'manual_review')
                                   THEN amount_minor ELSE 0 END
    """,
    "hold_account_without_row": """
        SELECT v.account, SUM(v.input - v.output) AS balance
        FROM ledger_volumes v
        WHERE v.account LIKE 'merchants:%:holds:%'
          AND NOT EXISTS (
              SELECT 1 FROM holds h
              WHERE v.account = 'merchants:' || h.merchant_id || ':' || h.currency
                                || ':holds:' || h.payout_id)
        GROUP BY v.account HAVING SUM(v.input - v.output) <> 0
    """,
    "claim_maps_to_one_transaction": """
        SELECT c.scope, c.key, c.response->>'transactionId' AS transaction_id
        FROM idempotency_claims c
        LEFT JOIN ledger_transactions t
          ON t.id = (c.response->>'transactionId')::bigint
        WHERE c.scope <> 'ledger'
          AND c.response->>'transactionId' IS NOT NULL
          AND t.id IS NULL
    """,
    "transaction_claimed_twice": """
        SELECT c.response->>'transactionId' AS transaction_id, COUNT(*) AS claims
        FROM idempotency_claims c
        WHERE c.scope <> 'ledger' AND c.response->>'transactionId' IS NOT NULL
        GROUP BY 1 HAVING COUNT(*) > 1
    """,
    "command_transaction_without_claim": """
        SELECT t.id, t.reference, t.metadata->>'command' AS command
        FROM ledger_transactions t
        WHERE t.metadata ? 'command'
          AND NOT EXISTS (
              SELECT 1 FROM idempotency_claims c
              WHERE c.scope <> 'ledger' AND (c.response->>'transactionId')::bigint = t.id)
    """,
}


def describe(violations: list[Violation]) -> str:
    return "\n".join(f"{v.invariant}: {v.detail}" for v in violations)

"""The migration's reconciliation: for every migrated wallet, what the file said, what the
ledger posted under its migration reference, and what the wallet holds now — summed per
currency, with every wallet where the three differ (up to a bound).

Reads the built-in ledger's tables (one statement per chunk of wallets), so the caller checks
`views.ledger_backend.require_builtin_ledger` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import BigInteger, Text

from walletflow.batches.opening_balances import WalletLine
from walletflow.money import Asset, Money
from walletflow.service.handlers.wallets import migration_reference

CHUNK_WALLETS = 5000
MAX_LISTED_DIFFERENCES = 100

# Addresses are COLLATE "C" (ledger_volumes.account, the index); the built expressions are
# cast to it so the primary-key index is used. A migrated hold is found by its reserve
# transaction, the wallet's migration transaction.
_RECONCILE = text(
    """
    WITH w AS (
        SELECT * FROM unnest(:merchants, :currencies, :expected)
            AS w(merchant_id, currency, expected_minor)
    ), posted AS (
        SELECT w.merchant_id, w.currency, coalesce(sum(p.amount), 0) AS posted_minor
        FROM w
        LEFT JOIN ledger_transactions t
            ON t.reference = 'migration:' || w.merchant_id || ':' || w.currency
        LEFT JOIN ledger_postings p ON p.tx_id = t.id
        GROUP BY w.merchant_id, w.currency
    ), wallet_accounts AS (
        SELECT w.merchant_id, w.currency,
               ('merchants:' || w.merchant_id || ':' || w.currency || ':' || kind)
                   COLLATE "C" AS account
        FROM w CROSS JOIN (VALUES ('available'), ('reserve')) AS kinds(kind)
        UNION ALL
        SELECT w.merchant_id, w.currency,
               ('merchants:' || w.merchant_id || ':' || w.currency || ':holds:' || h.payout_id)
                   COLLATE "C"
        FROM w
        JOIN ledger_transactions t
            ON t.reference = 'migration:' || w.merchant_id || ':' || w.currency
        JOIN holds h ON h.reserve_tx_id = t.id
    ), held AS (
        SELECT a.merchant_id, a.currency, coalesce(sum(v.input - v.output), 0) AS balance_minor
        FROM wallet_accounts a
        LEFT JOIN ledger_volumes v ON v.account = a.account
        GROUP BY a.merchant_id, a.currency
    )
    SELECT w.merchant_id, w.currency, w.expected_minor, posted.posted_minor,
           held.balance_minor
    FROM w
    JOIN posted USING (merchant_id, currency)
    JOIN held USING (merchant_id, currency)
    """
).bindparams(
    bindparam("merchants", type_=ARRAY(Text)),
    bindparam("currencies", type_=ARRAY(Text)),
    bindparam("expected", type_=ARRAY(BigInteger)),
)


@dataclass
class CurrencyReconciliation:
    currency: str
    wallets: int = 0
    file_minor: int = 0
    ledger_minor: int = 0
    wallets_minor: int = 0

    @property
    def balanced(self) -> bool:
        return self.file_minor == self.ledger_minor == self.wallets_minor

    def to_json(self) -> dict[str, Any]:
        asset = Asset.of(self.currency)

        def major(minor: int) -> str:
            return Money.of_minor(minor, asset).to_decimal_string()

        return {
            "currency": self.currency,
            "wallets": self.wallets,
            "file": major(self.file_minor),
            "ledger": major(self.ledger_minor),
            "walletsSum": major(self.wallets_minor),
            "fileMinusLedger": major(self.file_minor - self.ledger_minor),
            "fileMinusWallets": major(self.file_minor - self.wallets_minor),
            "balanced": self.balanced,
        }


@dataclass(frozen=True)
class WalletDifference:
    merchant_id: str
    currency: str
    file_minor: int
    ledger_minor: int
    wallet_minor: int

    def to_json(self) -> dict[str, Any]:
        return {
            "merchantId": self.merchant_id,
            "currency": self.currency,
            "fileMinor": self.file_minor,
            "ledgerMinor": self.ledger_minor,
            "walletMinor": self.wallet_minor,
        }


@dataclass
class Reconciliation:
    currencies: dict[str, CurrencyReconciliation] = field(default_factory=dict)
    difference_count: int = 0
    differences: list[WalletDifference] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.difference_count == 0 and all(c.balanced for c in self.currencies.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "balanced": self.balanced,
            "currencies": [c.to_json() for _, c in sorted(self.currencies.items())],
            "walletsDiffering": self.difference_count,
            "differences": [d.to_json() for d in self.differences],
        }


async def reconcile(connection: AsyncConnection, wallets: Sequence[WalletLine]) -> Reconciliation:
    """Compare the file's lines with the ledger and the wallets, CHUNK_WALLETS at a time."""
    report = Reconciliation()
    for start in range(0, len(wallets), CHUNK_WALLETS):
        chunk = wallets[start : start + CHUNK_WALLETS]
        rows = await connection.execute(
            _RECONCILE,
            {
                "merchants": [w.merchant_id for w in chunk],
                "currencies": [w.currency for w in chunk],
                "expected": [w.total_minor for w in chunk],
            },
        )
        for row in rows:
            totals = report.currencies.setdefault(
                row.currency, CurrencyReconciliation(row.currency)
            )
            posted, held = int(row.posted_minor), int(row.balance_minor)
            totals.wallets += 1
            totals.file_minor += row.expected_minor
            totals.ledger_minor += posted
            totals.wallets_minor += held
            if not row.expected_minor == posted == held:
                report.difference_count += 1
                if len(report.differences) < MAX_LISTED_DIFFERENCES:
                    report.differences.append(
                        WalletDifference(
                            row.merchant_id, row.currency, row.expected_minor, posted, held
                        )
                    )
    return report


assert migration_reference("m", "NGN") == "migration:m:NGN", "the SQL above builds this reference"

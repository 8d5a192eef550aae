"""Trial balance and ALM views: plain SQL over the ledger's volumes and the loaded COA.

A ledger address is put in its COA account by the account's `address_regex` (loaded by
`rebuildCoa`); an address no COA account matches is reported on an `UNMAPPED` line, so the
trial balance still foots and the operator sees what to map. Rows are per (asset, COA account),
so the output is bounded by assets x COA accounts whatever the number of wallets.

Journal convention (see `coa.model`): a posting debits its source and credits its destination;
per account, debits = Formance output, credits = Formance input. The balance on a line is on
the account's normal side (credit - debit for credit-normal accounts, debit - credit for
debit-normal ones); a negative one is `abnormal`. Per asset, total debits equal total credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.ledger.port import check_asset

UNMAPPED = "UNMAPPED"
ALM_CLASSES: tuple[str, ...] = ("ASSET", "LIABILITY", "EQUITY", "REVENUE", "EXPENSE")

_TRIAL_BALANCE_SQL = """
WITH v AS (
    SELECT account, asset, sum(input) AS credit, sum(output) AS debit
      FROM ledger_volumes
     WHERE (CAST(:asset AS text) IS NULL OR asset = CAST(:asset AS text))
     GROUP BY account, asset
), classified AS (
    SELECT v.asset, v.debit, v.credit, c.code, c.name, c.account_class, c.normal_balance
      FROM v
      LEFT JOIN LATERAL (
            SELECT code, name, account_class, normal_balance
              FROM coa_accounts
             WHERE v.account ~ coa_accounts.address_regex
             ORDER BY code
             LIMIT 1
      ) c ON true
)
SELECT asset, code, name, account_class, normal_balance,
       count(*) AS accounts, sum(debit) AS debit, sum(credit) AS credit
  FROM classified
 GROUP BY asset, code, name, account_class, normal_balance
 ORDER BY asset, code NULLS LAST
"""


@dataclass(frozen=True)
class TrialBalanceLine:
    asset: str
    code: str
    """The COA code, or `UNMAPPED` for addresses no COA account matches."""
    name: str
    account_class: str | None
    normal_balance: str | None
    accounts: int
    """How many ledger addresses (with this asset) the line sums."""
    debit_minor: int
    credit_minor: int
    balance_minor: int
    """On the normal side; for UNMAPPED, the Formance sign (credit - debit)."""

    @property
    def abnormal(self) -> bool:
        return self.balance_minor < 0

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "code": self.code,
            "name": self.name,
            "accountClass": self.account_class,
            "normalBalance": self.normal_balance,
            "accounts": self.accounts,
            "debitMinor": self.debit_minor,
            "creditMinor": self.credit_minor,
            "balanceMinor": self.balance_minor,
            "abnormal": self.abnormal,
        }


@dataclass(frozen=True)
class AssetTotal:
    asset: str
    debit_minor: int
    credit_minor: int

    @property
    def net_minor(self) -> int:
        """Credits - debits over every account of the asset: zero when the books foot."""
        return self.credit_minor - self.debit_minor

    @property
    def foots(self) -> bool:
        return self.net_minor == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "debitMinor": self.debit_minor,
            "creditMinor": self.credit_minor,
            "netMinor": self.net_minor,
            "foots": self.foots,
        }


@dataclass(frozen=True)
class TrialBalance:
    lines: tuple[TrialBalanceLine, ...]
    totals: tuple[AssetTotal, ...]

    @property
    def foots(self) -> bool:
        return all(total.foots for total in self.totals)

    def to_json(self) -> dict[str, Any]:
        return {
            "foots": self.foots,
            "lines": [line.to_json() for line in self.lines],
            "totals": [total.to_json() for total in self.totals],
        }


def _natural(normal_balance: str | None, debit_minor: int, credit_minor: int) -> int:
    if normal_balance == "DEBIT":
        return debit_minor - credit_minor
    return credit_minor - debit_minor


async def trial_balance(connection: AsyncConnection, asset: str | None = None) -> TrialBalance:
    """The trial balance per asset (all assets, or one: `NGN/2`, `UGX`)."""
    if asset is not None:
        check_asset(asset)
    rows = (await connection.execute(text(_TRIAL_BALANCE_SQL), {"asset": asset})).all()
    lines: list[TrialBalanceLine] = []
    sums: dict[str, tuple[int, int]] = {}
    for row in rows:
        debit_minor, credit_minor = int(row.debit), int(row.credit)
        lines.append(
            TrialBalanceLine(
                asset=row.asset,
                code=row.code or UNMAPPED,
                name=row.name or "Addresses outside the loaded COA",
                account_class=row.account_class,
                normal_balance=row.normal_balance,
                accounts=int(row.accounts),
                debit_minor=debit_minor,
                credit_minor=credit_minor,
                balance_minor=_natural(row.normal_balance, debit_minor, credit_minor),
            )
        )
        debit_total, credit_total = sums.get(row.asset, (0, 0))
        sums[row.asset] = (debit_total + debit_minor, credit_total + credit_minor)
    totals = tuple(AssetTotal(a, d, c) for a, (d, c) in sorted(sums.items()))
    return TrialBalance(lines=tuple(lines), totals=totals)


@dataclass(frozen=True)
class AlmLine:
    asset: str
    currency: str
    account_class: str
    code: str
    name: str
    balance_minor: int

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "currency": self.currency,
            "accountClass": self.account_class,
            "code": self.code,
            "name": self.name,
            "balanceMinor": self.balance_minor,
        }


@dataclass(frozen=True)
class AlmSummary:
    asset: str
    currency: str
    by_class_minor: dict[str, int]
    """Account class → the sum of its accounts' balances (normal side)."""
    unmapped_minor: int

    @property
    def assets_minor(self) -> int:
        return self.by_class_minor.get("ASSET", 0)

    @property
    def liabilities_minor(self) -> int:
        return self.by_class_minor.get("LIABILITY", 0)

    @property
    def net_position_minor(self) -> int:
        """Assets - liabilities: what is left over (or short) after every merchant is paid."""
        return self.assets_minor - self.liabilities_minor

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "currency": self.currency,
            "assetsMinor": self.assets_minor,
            "liabilitiesMinor": self.liabilities_minor,
            "netPositionMinor": self.net_position_minor,
            "byClassMinor": dict(self.by_class_minor),
            "unmappedMinor": self.unmapped_minor,
        }


@dataclass(frozen=True)
class AlmView:
    summaries: tuple[AlmSummary, ...]
    lines: tuple[AlmLine, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "summaries": [summary.to_json() for summary in self.summaries],
            "lines": [line.to_json() for line in self.lines],
        }


def currency_of(asset: str) -> str:
    """`NGN/2` → `NGN`; `UGX` → `UGX`."""
    return asset.split("/", 1)[0]


async def alm_view(connection: AsyncConnection) -> AlmView:
    """Assets vs liabilities by class and currency, from the trial balance."""
    balance = await trial_balance(connection)
    lines: list[AlmLine] = []
    by_asset: dict[str, dict[str, int]] = {}
    unmapped: dict[str, int] = {}
    for line in balance.lines:
        classes = by_asset.setdefault(line.asset, {name: 0 for name in ALM_CLASSES})
        if line.account_class is None:
            unmapped[line.asset] = unmapped.get(line.asset, 0) + line.balance_minor
            continue
        classes[line.account_class] = classes.get(line.account_class, 0) + line.balance_minor
        lines.append(
            AlmLine(
                asset=line.asset,
                currency=currency_of(line.asset),
                account_class=line.account_class,
                code=line.code,
                name=line.name,
                balance_minor=line.balance_minor,
            )
        )
    summaries = tuple(
        AlmSummary(
            asset=asset,
            currency=currency_of(asset),
            by_class_minor=classes,
            unmapped_minor=unmapped.get(asset, 0),
        )
        for asset, classes in sorted(by_asset.items())
    )
    lines.sort(key=lambda line: (line.asset, ALM_CLASSES.index(line.account_class), line.code))
    return AlmView(summaries=summaries, lines=tuple(lines))

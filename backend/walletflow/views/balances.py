"""Ledger balances by accounts or prefix, now or at a point in time, through the ledger port
(either backend), as sorted lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from walletflow.domain.errors import ValidationError
from walletflow.ledger.port import LedgerPort
from walletflow.views.visibility import Visibility

MAX_BALANCE_LINES = 1000


@dataclass(frozen=True)
class BalanceLine:
    account: str
    asset: str
    balance_minor: int


async def balances(
    ledger: LedgerPort,
    visibility: Visibility,
    *,
    accounts: Sequence[str] | None = None,
    prefix: str | None = None,
    asset: str | None = None,
    at: datetime | None = None,
    effective_at: datetime | None = None,
) -> list[BalanceLine]:
    """One line per (account, asset), in that order; at most MAX_BALANCE_LINES. `at` is as
    recorded at a time, `effective_at` as effective at a time (see `LedgerPort.balances`)."""
    prefix = visibility.balance_query(accounts, prefix)
    found = await ledger.balances(
        accounts=accounts, prefix=prefix, asset=asset, at=at, effective_at=effective_at
    )
    lines = [
        BalanceLine(account=account, asset=line_asset, balance_minor=minor)
        for account, assets in sorted(found.items())
        for line_asset, minor in sorted(assets.items())
    ]
    if len(lines) > MAX_BALANCE_LINES:
        raise ValidationError(
            f"more than {MAX_BALANCE_LINES} balances; narrow the prefix or asset",
            field_errors={"prefix": "too broad"},
        )
    return lines

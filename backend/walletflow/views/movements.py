"""Account movements: the net change of every account under a prefix between two effective
times (e.g. fees earned per currency: prefix `fees:`), from two balance reads of the ledger
port (either backend)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from walletflow.domain.errors import ValidationError
from walletflow.ledger.port import LedgerPort
from walletflow.views.balances import MAX_BALANCE_LINES
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class AccountMovement:
    account: str
    asset: str
    opening_minor: int
    closing_minor: int

    @property
    def change_minor(self) -> int:
        return self.closing_minor - self.opening_minor


@dataclass(frozen=True)
class AssetMovement:
    asset: str
    change_minor: int


@dataclass(frozen=True)
class Movements:
    prefix: str
    from_time: datetime
    to_time: datetime
    by_asset: list[AssetMovement]
    by_account: list[AccountMovement]


async def account_movements(
    ledger: LedgerPort,
    visibility: Visibility,
    *,
    prefix: str,
    from_time: datetime,
    to_time: datetime,
    asset: str | None = None,
) -> Movements:
    """Opening balance at `from_time`, closing at `to_time` (effective times), per account
    and asset (sorted), and the net change per asset."""
    visibility.account(prefix)
    if from_time >= to_time:
        raise ValidationError("fromTime must be before toTime", field_errors={"toTime": "<="})
    opening = await ledger.balances(prefix=prefix, asset=asset, effective_at=from_time)
    closing = await ledger.balances(prefix=prefix, asset=asset, effective_at=to_time)
    by_account: list[AccountMovement] = []
    totals: dict[str, int] = {}
    for account in sorted(set(opening) | set(closing)):
        assets = set(opening.get(account, {})) | set(closing.get(account, {}))
        for line_asset in sorted(assets):
            movement = AccountMovement(
                account=account,
                asset=line_asset,
                opening_minor=opening.get(account, {}).get(line_asset, 0),
                closing_minor=closing.get(account, {}).get(line_asset, 0),
            )
            by_account.append(movement)
            totals[line_asset] = totals.get(line_asset, 0) + movement.change_minor
    if len(by_account) > MAX_BALANCE_LINES:
        raise ValidationError(
            "too many accounts; narrow the prefix", field_errors={"prefix": "too broad"}
        )
    return Movements(
        prefix=prefix,
        from_time=from_time,
        to_time=to_time,
        by_asset=[AssetMovement(asset, change) for asset, change in sorted(totals.items())],
        by_account=by_account,
    )

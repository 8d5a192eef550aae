"""Dataloaders: one query per page for the balances behind wallets and holds (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from walletflow.bootstrap import Container
from walletflow.db.schema_service import holds
from walletflow.domain import accounts
from walletflow.domain.holds import HoldState

OPEN_HOLD_STATES = (HoldState.RESERVED.value, HoldState.MANUAL_REVIEW.value)
# The ledger answers at most this many accounts in one balances call.
MAX_ACCOUNTS_PER_BATCH = 1000

WalletKey = tuple[str, str]


class Loaders:
    """Fresh per request, so nothing is cached across requests or principals."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self.account_balances: DataLoader[str, dict[str, int]] = DataLoader(
            self._load_account_balances, max_batch_size=MAX_ACCOUNTS_PER_BATCH
        )
        self.open_holds: DataLoader[WalletKey, list[str]] = DataLoader(
            self._load_open_holds, max_batch_size=MAX_ACCOUNTS_PER_BATCH
        )

    async def _load_account_balances(self, addresses: Sequence[str]) -> list[dict[str, int]]:
        found = await self._container.ledger.balances(accounts=list(addresses))
        return [found.get(address, {}) for address in addresses]

    async def _load_open_holds(self, wallets: Sequence[WalletKey]) -> list[list[str]]:
        merchants = sorted({merchant for merchant, _ in wallets})
        statement = (
            select(holds.c.merchant_id, holds.c.currency, holds.c.payout_id)
            .where(holds.c.merchant_id.in_(merchants), holds.c.state.in_(OPEN_HOLD_STATES))
            .order_by(holds.c.payout_id)
        )
        found: dict[WalletKey, list[str]] = {}
        async with self._container.engine.connect() as connection:
            for row in await connection.execute(statement):
                found.setdefault((row.merchant_id, row.currency), []).append(
                    accounts.merchant_hold(row.merchant_id, row.currency, row.payout_id)
                )
        return [found.get(wallet, []) for wallet in wallets]

"""Dataloaders: one query per page for the balances behind wallets and holds (no N+1)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from walletflow.bootstrap import Container
from walletflow.views import holds
from walletflow.views.holds import WalletKey

# The ledger answers at most this many accounts in one balances call.
MAX_ACCOUNTS_PER_BATCH = 1000


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
        async with self._container.engine.connect() as connection:
            return await holds.open_hold_accounts(connection, wallets)

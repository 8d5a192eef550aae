"""Wallets: which merchant holds which currency. Their balances come from the ledger port
(available, reserve) and the open holds (`views.holds.open_hold_accounts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import wallets
from walletflow.views.pages import Slice, decode_cursor, page_size
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class WalletRow:
    merchant_id: str
    currency: str
    created_at: datetime


async def list_wallets(
    connection: AsyncConnection,
    visibility: Visibility,
    *,
    merchant_id: str | None = None,
    currency: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Slice[WalletRow]:
    """Wallets in (merchant, currency) order; a merchant sees only its own."""
    size = page_size(first)
    merchant = visibility.merchant(merchant_id)
    statement = select(wallets.c.merchant_id, wallets.c.currency, wallets.c.created_at)
    if merchant is not None:
        statement = statement.where(wallets.c.merchant_id == merchant)
    if currency is not None:
        statement = statement.where(wallets.c.currency == currency.upper())
    position = decode_cursor(after, (str, str))
    if position is not None:
        statement = statement.where(
            tuple_(wallets.c.merchant_id, wallets.c.currency) > tuple_(position[0], position[1])
        )
    statement = statement.order_by(wallets.c.merchant_id, wallets.c.currency).limit(size + 1)
    rows = (await connection.execute(statement)).all()
    return Slice([WalletRow(row.merchant_id, row.currency, row.created_at) for row in rows], size)

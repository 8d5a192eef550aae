"""Wallets: which merchant holds which currency. Their balances come from the ledger port
(available, reserve) and the open holds (`views.holds.open_hold_accounts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import wallets
from walletflow.db.sql import LIKE_ESCAPE, like_prefix
from walletflow.views.pages import Slice, decode_cursor, page_size
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class WalletRow:
    merchant_id: str
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class WalletFilter:
    """Which wallets a list or count covers: one merchant, merchants whose id starts with
    `merchant_prefix`, one currency (all given criteria hold)."""

    merchant_id: str | None = None
    currency: str | None = None
    merchant_prefix: str | None = None


def _filtered(statement: Select[Any], visibility: Visibility, found: WalletFilter) -> Select[Any]:
    merchant = visibility.merchant(found.merchant_id)
    if merchant is not None:
        statement = statement.where(wallets.c.merchant_id == merchant)
    if found.merchant_prefix:
        statement = statement.where(
            wallets.c.merchant_id.like(like_prefix(found.merchant_prefix), escape=LIKE_ESCAPE)
        )
    if found.currency is not None:
        statement = statement.where(wallets.c.currency == found.currency.upper())
    return statement


async def list_wallets(
    connection: AsyncConnection,
    visibility: Visibility,
    *,
    merchant_id: str | None = None,
    currency: str | None = None,
    merchant_prefix: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Slice[WalletRow]:
    """Wallets in (merchant, currency) order; a merchant sees only its own."""
    size = page_size(first)
    statement = _filtered(
        select(wallets.c.merchant_id, wallets.c.currency, wallets.c.created_at),
        visibility,
        WalletFilter(merchant_id, currency, merchant_prefix),
    )
    position = decode_cursor(after, 2)
    if position is not None:
        statement = statement.where(
            tuple_(wallets.c.merchant_id, wallets.c.currency)
            > tuple_(str(position[0]), str(position[1]))
        )
    statement = statement.order_by(wallets.c.merchant_id, wallets.c.currency).limit(size + 1)
    rows = (await connection.execute(statement)).all()
    return Slice([WalletRow(row.merchant_id, row.currency, row.created_at) for row in rows], size)


async def count_wallets(
    connection: AsyncConnection, visibility: Visibility, found: WalletFilter
) -> int:
    """How many wallets `list_wallets` pages through with the same filters."""
    statement = _filtered(select(func.count()).select_from(wallets), visibility, found)
    return int((await connection.execute(statement)).scalar_one())


async def wallet_currencies(connection: AsyncConnection, visibility: Visibility) -> list[str]:
    """The currencies that have at least one wallet (a merchant: its own), sorted."""
    statement = _filtered(
        select(wallets.c.currency).distinct(), visibility, WalletFilter()
    ).order_by(wallets.c.currency)
    return [str(row.currency) for row in await connection.execute(statement)]

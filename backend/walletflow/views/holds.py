"""Payout holds: the hold rows (state, amount, provider), oldest first, and the open holds'
ledger sub-accounts of a page of wallets (for their `holds` balance, in one query)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import holds
from walletflow.domain import accounts
from walletflow.domain.errors import NotFound, ValidationError
from walletflow.domain.holds import HoldState
from walletflow.service.clock import Clock
from walletflow.views.pages import Slice, decode_cursor, page_size
from walletflow.views.visibility import Visibility, within

MAX_OLDER_THAN_S = 10 * 365 * 24 * 3600
OPEN_HOLD_STATES = (HoldState.RESERVED.value, HoldState.MANUAL_REVIEW.value)

WalletKey = tuple[str, str]
"""(merchant id, currency)."""


@dataclass(frozen=True)
class HoldRow:
    payout_id: str
    merchant_id: str
    currency: str
    asset: str
    amount_minor: int
    provider: str
    state: str
    destination: dict[str, Any]
    provider_reference: str | None
    reason: str | None
    created_at: datetime
    state_changed_at: datetime


def _hold(row: Any) -> HoldRow:
    return HoldRow(
        payout_id=row.payout_id,
        merchant_id=row.merchant_id,
        currency=row.currency,
        asset=row.asset,
        amount_minor=int(row.amount_minor),
        provider=row.provider,
        state=row.state,
        destination=row.destination,
        provider_reference=row.provider_reference,
        reason=row.reason,
        created_at=row.created_at,
        state_changed_at=row.state_changed_at,
    )


async def _page(
    connection: AsyncConnection,
    statement: Select[Any],
    first: int | None,
    after: str | None,
    newest_first: bool = False,
) -> Slice[HoldRow]:
    size = page_size(first)
    position = decode_cursor(after, 2)
    key = tuple_(holds.c.created_at, holds.c.payout_id)
    if position is not None:
        mark = tuple_(datetime.fromisoformat(str(position[0])), str(position[1]))
        statement = statement.where(key < mark if newest_first else key > mark)
    if newest_first:
        statement = statement.order_by(holds.c.created_at.desc(), holds.c.payout_id.desc())
    else:
        statement = statement.order_by(holds.c.created_at, holds.c.payout_id)
    rows = (await connection.execute(statement.limit(size + 1))).all()
    return Slice([_hold(row) for row in rows], size)


@dataclass(frozen=True)
class HoldFilter:
    """Which holds a list or count covers (all given criteria hold)."""

    state: str | None = None
    merchant_id: str | None = None
    older_than_s: int | None = None


def _filtered(
    statement: Select[Any], visibility: Visibility, found: HoldFilter, clock: Clock | None
) -> Select[Any]:
    merchant = visibility.merchant(found.merchant_id)
    if merchant is not None:
        statement = statement.where(holds.c.merchant_id == merchant)
    if found.state is not None:
        if found.state not in {s.value for s in HoldState}:
            raise ValidationError("unknown hold state", field_errors={"state": "unknown"})
        statement = statement.where(holds.c.state == found.state)
    if found.older_than_s is not None:
        if not 0 <= found.older_than_s <= MAX_OLDER_THAN_S:
            raise ValidationError("olderThanS out of range", field_errors={"olderThanS": "range"})
        assert clock is not None, "an age filter needs a clock"
        cutoff = clock.now() - timedelta(seconds=found.older_than_s)
        statement = statement.where(holds.c.created_at < cutoff)
    return statement


async def list_holds(
    connection: AsyncConnection,
    visibility: Visibility,
    *,
    state: str | None = None,
    merchant_id: str | None = None,
    older_than_s: int | None = None,
    clock: Clock | None = None,
    first: int | None = None,
    after: str | None = None,
    newest_first: bool = False,
) -> Slice[HoldRow]:
    """Holds, oldest first (or newest first), optionally only those created more than
    `older_than_s` seconds before `clock.now()`; a merchant sees only its own."""
    found = HoldFilter(state, merchant_id, older_than_s)
    statement = _filtered(select(holds), visibility, found, clock)
    return await _page(connection, statement, first, after, newest_first)


async def count_holds(
    connection: AsyncConnection, visibility: Visibility, found: HoldFilter, clock: Clock | None
) -> int:
    """How many holds `list_holds` pages through with the same filters."""
    statement = _filtered(select(func.count()).select_from(holds), visibility, found, clock)
    return int((await connection.execute(statement)).scalar_one())


async def get_hold(connection: AsyncConnection, visibility: Visibility, payout_id: str) -> HoldRow:
    """One hold by payout id (a merchant: only its own); NotFound otherwise."""
    row = (await connection.execute(select(holds).where(holds.c.payout_id == payout_id))).first()
    if row is None or not within(visibility.own_merchant, row.merchant_id):
        raise NotFound(f"no payout {payout_id}", details={"payoutId": payout_id})
    return _hold(row)


async def manual_review_queue(
    connection: AsyncConnection,
    visibility: Visibility,
    *,
    first: int | None = None,
    after: str | None = None,
    newest_first: bool = False,
) -> Slice[HoldRow]:
    """Payouts waiting for a person (state manual_review), oldest first (or newest first):
    staff and analysts."""
    visibility.require_everything()
    statement = select(holds).where(holds.c.state == HoldState.MANUAL_REVIEW.value)
    return await _page(connection, statement, first, after, newest_first)


async def count_manual_review(connection: AsyncConnection, visibility: Visibility) -> int:
    """How many payouts wait for a person: staff and analysts."""
    visibility.require_everything()
    statement = (
        select(func.count())
        .select_from(holds)
        .where(holds.c.state == HoldState.MANUAL_REVIEW.value)
    )
    return int((await connection.execute(statement)).scalar_one())


async def open_hold_accounts(
    connection: AsyncConnection, wallets: Sequence[WalletKey]
) -> list[list[str]]:
    """For each wallet, the ledger sub-accounts of its open holds (reserved or in manual
    review), in payout id order. The wallets come from a page the caller may already read."""
    merchants = sorted({merchant for merchant, _ in wallets})
    statement = (
        select(holds.c.merchant_id, holds.c.currency, holds.c.payout_id)
        .where(holds.c.merchant_id.in_(merchants), holds.c.state.in_(OPEN_HOLD_STATES))
        .order_by(holds.c.payout_id)
    )
    found: dict[WalletKey, list[str]] = {}
    for row in await connection.execute(statement):
        found.setdefault((row.merchant_id, row.currency), []).append(
            accounts.merchant_hold(row.merchant_id, row.currency, row.payout_id)
        )
    return [found.get(wallet, []) for wallet in wallets]

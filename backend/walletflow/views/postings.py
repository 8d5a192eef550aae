"""Postings, newest transaction first: SQL over the built-in ledger's `ledger_postings`
(refused under another ledger backend, see `views.ledger_backend`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.config import LedgerBackend
from walletflow.db.schema_ledger import ledger_postings, ledger_transactions
from walletflow.db.sql import LIKE_ESCAPE, like_prefix
from walletflow.views.ledger_backend import require_builtin_ledger
from walletflow.views.pages import Slice, decode_cursor, page_size
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class PostingRow:
    tx_id: int
    ordinal: int
    source: str
    destination: str
    asset: str
    amount_minor: int
    effective_at: datetime


@dataclass(frozen=True)
class PostingFilter:
    """Postings whose source or destination starts with `account`, of `asset`, of the
    transaction with `reference`, effective in [`from_time`, `to_time`) (all given hold)."""

    account: str | None = None
    asset: str | None = None
    reference: str | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None


def _filtered(statement: Select[Any], found: PostingFilter) -> Select[Any]:
    p = ledger_postings.c
    if found.account is not None:
        pattern = like_prefix(found.account)
        statement = statement.where(
            or_(
                p.source.like(pattern, escape=LIKE_ESCAPE),
                p.destination.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if found.asset is not None:
        statement = statement.where(p.asset == found.asset)
    if found.reference is not None:
        by_reference = select(ledger_transactions.c.id).where(
            ledger_transactions.c.reference == found.reference
        )
        statement = statement.where(p.tx_id.in_(by_reference))
    if found.from_time is not None:
        statement = statement.where(p.effective_at >= found.from_time)
    if found.to_time is not None:
        statement = statement.where(p.effective_at < found.to_time)
    return statement


async def list_postings(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    *,
    account: str | None = None,
    asset: str | None = None,
    reference: str | None = None,
    from_time: datetime | None = None,
    to_time: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Slice[PostingRow]:
    """Postings whose source or destination starts with `account` (a merchant: under its own
    prefix), in (transaction id descending, ordinal) order; times bound `effective_at`,
    `from_time` inclusive and `to_time` exclusive."""
    size = page_size(first)
    account = visibility.account(account)
    require_builtin_ledger(backend, "postings")
    p = ledger_postings.c
    statement = _filtered(
        select(p.tx_id, p.ordinal, p.source, p.destination, p.asset, p.amount, p.effective_at),
        PostingFilter(account, asset, reference, from_time, to_time),
    )
    position = decode_cursor(after, 2)
    if position is not None:
        tx_id, ordinal = int(position[0]), int(position[1])
        statement = statement.where(
            or_(p.tx_id < tx_id, and_(p.tx_id == tx_id, p.ordinal > ordinal))
        )
    statement = statement.order_by(p.tx_id.desc(), p.ordinal).limit(size + 1)
    rows = (await connection.execute(statement)).all()
    postings = [
        PostingRow(
            tx_id=int(row.tx_id),
            ordinal=row.ordinal,
            source=row.source,
            destination=row.destination,
            asset=row.asset,
            amount_minor=int(row.amount),
            effective_at=row.effective_at,
        )
        for row in rows
    ]
    return Slice(postings, size)


async def count_postings(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    found: PostingFilter,
) -> int:
    """How many postings `list_postings` pages through with the same filters."""
    require_builtin_ledger(backend, "postings")
    found = PostingFilter(
        visibility.account(found.account),
        found.asset,
        found.reference,
        found.from_time,
        found.to_time,
    )
    statement = _filtered(select(func.count()).select_from(ledger_postings), found)
    return int((await connection.execute(statement)).scalar_one())


async def count_transactions(
    connection: AsyncConnection,
    visibility: Visibility,
    backend: LedgerBackend,
    found: PostingFilter,
) -> int | None:
    """How many transactions have a posting the filter matches (what `transactions` pages
    through); None under a ledger backend whose transactions are not in this database."""
    if backend is not LedgerBackend.POSTGRES:
        return None
    account = visibility.account(found.account)
    t = ledger_transactions.c
    statement = select(func.count()).select_from(ledger_transactions)
    if found.reference is not None:
        statement = statement.where(t.reference == found.reference)
    if found.from_time is not None:
        statement = statement.where(t.effective_at >= found.from_time)
    if found.to_time is not None:
        statement = statement.where(t.effective_at < found.to_time)
    if account is not None or found.asset is not None:
        legs = _filtered(
            select(ledger_postings.c.tx_id).where(ledger_postings.c.tx_id == t.id),
            PostingFilter(account, found.asset),
        )
        statement = statement.where(exists(legs))
    return int((await connection.execute(statement)).scalar_one())

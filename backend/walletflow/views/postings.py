"""Postings, newest transaction first: SQL over the built-in ledger's `ledger_postings`
(refused under another ledger backend, see `views.ledger_backend`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.config import LedgerBackend
from walletflow.db.schema_ledger import ledger_postings, ledger_transactions
from walletflow.db.sql import LIKE_ESCAPE, like_prefix
from walletflow.views.ledger_backend import require_builtin_ledger
from walletflow.views.pages import Int32, Slice, decode_cursor, page_size
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
    statement = select(
        p.tx_id, p.ordinal, p.source, p.destination, p.asset, p.amount, p.effective_at
    ).where(*_criteria(account, asset, reference, from_time, to_time))
    position = decode_cursor(after, (int, Int32))
    if position is not None:
        tx_id, ordinal = position
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
    *,
    account: str | None = None,
    asset: str | None = None,
    from_time: datetime | None = None,
    to_time: datetime | None = None,
) -> int:
    """How many postings `list_postings` pages through for the same criteria (an export's
    progress total)."""
    account = visibility.account(account)
    require_builtin_ledger(backend, "postings")
    statement = select(func.count()).select_from(ledger_postings)
    statement = statement.where(*_criteria(account, asset, None, from_time, to_time))
    return int((await connection.execute(statement)).scalar_one())


def _criteria(
    account: str | None,
    asset: str | None,
    reference: str | None,
    from_time: datetime | None,
    to_time: datetime | None,
) -> list[ColumnElement[Any]]:
    p = ledger_postings.c
    found: list[ColumnElement[Any]] = []
    if account is not None:
        pattern = like_prefix(account)
        found.append(
            or_(
                p.source.like(pattern, escape=LIKE_ESCAPE),
                p.destination.like(pattern, escape=LIKE_ESCAPE),
            )
        )
    if asset is not None:
        found.append(p.asset == asset)
    if reference is not None:
        by_reference = select(ledger_transactions.c.id).where(
            ledger_transactions.c.reference == reference
        )
        found.append(p.tx_id.in_(by_reference))
    if from_time is not None:
        found.append(p.effective_at >= from_time)
    if to_time is not None:
        found.append(p.effective_at < to_time)
    return found

"""Read model: the reconciliation exceptions queue — statement lines of an outside account
not in an active match, with amount and age (days since value date at `on`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_PAGE = 500
"""Exceptions per page (bounded)."""


@dataclass(frozen=True, slots=True)
class LineException:
    line_id: int
    account: str
    signed_minor: int
    currency: str
    value_date: date
    age_days: int
    reference: str
    narrative: str


async def unmatched_lines(
    connection: AsyncConnection, *, account: str, on: date, limit: int = 100
) -> list[LineException]:
    assert 0 < limit <= MAX_PAGE
    rows = await connection.execute(
        sa.text(
            """
            select l.id, l.account, l.amount_minor, l.direction, l.currency, l.value_date,
                l.reference, l.narrative
            from recon_lines l
            where l.account = :account
              and not exists (select 1 from recon_matches m where m.account = l.account
                              and m.unmatched_at is null and l.id = any(m.line_ids))
            order by l.value_date, l.id
            limit :limit
            """
        ),
        {"account": account, "limit": limit},
    )
    return [
        LineException(
            line_id=row.id,
            account=row.account,
            signed_minor=row.amount_minor if row.direction == "credit" else -row.amount_minor,
            currency=row.currency,
            value_date=row.value_date,
            age_days=(on - row.value_date).days,
            reference=row.reference,
            narrative=row.narrative,
        )
        for row in rows
    ]

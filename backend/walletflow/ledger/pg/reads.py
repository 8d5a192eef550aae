"""The reads of the built-in ledger, on an open connection: one transaction, a page of
transactions, balances (now, or as of a recorded and an effective time) and a page of accounts.

Balances are derived: without a time they sum the volume shards (the cache the write keeps in
its own transaction); with `at` (recorded up to) or `effective_at` (counts up to) they sum the
postings themselves. Pages are keyset-paginated with an opaque cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.domain.errors import NotFound
from walletflow.ledger.pg import sql
from walletflow.ledger.pg.codec import (
    as_int,
    decode_position,
    encode_cursor,
    like_prefix,
    transaction_from_row,
)
from walletflow.ledger.port import (
    Account,
    Page,
    Transaction,
    TransactionFilter,
    check_balance_query,
    check_limit,
)


async def get_transaction(connection: AsyncConnection, tx_id: int) -> Transaction:
    row = (await connection.execute(sql.GET_TX, {"tx_id": tx_id})).first()
    if row is None:
        raise NotFound(f"no transaction {tx_id}", details={"txId": tx_id})
    return transaction_from_row(row)


async def list_transactions(
    connection: AsyncConnection, filter: TransactionFilter | None, cursor: str | None, limit: int
) -> Page[Transaction]:
    """Newest first; every criterion of the filter must hold."""
    check_limit(limit)
    before_id = decode_position(cursor, "id", int)
    where = ["true"]
    params: dict[str, Any] = {"limit": limit + 1}
    if before_id is not None:
        where.append("t.id < :before_id")
        params["before_id"] = before_id
    criteria = filter or TransactionFilter()
    if criteria.reference is not None:
        where.append("t.reference = :reference")
        params["reference"] = criteria.reference
    if criteria.start_time is not None:
        where.append("t.effective_at >= :start_time")
        params["start_time"] = criteria.start_time
    if criteria.end_time is not None:
        where.append("t.effective_at < :end_time")
        params["end_time"] = criteria.end_time
    if criteria.account is not None or criteria.asset is not None:
        posting_where = ["p.tx_id = t.id"]
        if criteria.account is not None:
            posting_where.append(
                "(p.source LIKE :account_like OR p.destination LIKE :account_like)"
            )
            params["account_like"] = like_prefix(criteria.account)
        if criteria.asset is not None:
            posting_where.append("p.asset = :asset")
            params["asset"] = criteria.asset
        where.append(sql.POSTING_EXISTS.format(where=" AND ".join(posting_where)))
    statement = text(sql.LIST_TRANSACTIONS.format(where=" AND ".join(where)))
    rows = (await connection.execute(statement, params)).all()
    items = tuple(transaction_from_row(row) for row in rows[:limit])
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def balances(
    connection: AsyncConnection,
    accounts: Sequence[str] | None,
    prefix: str | None,
    asset: str | None,
    at: datetime | None,
    effective_at: datetime | None,
) -> dict[str, dict[str, int]]:
    """account -> asset -> balance of the accounts named or under the prefix."""
    check_balance_query(accounts, prefix, asset, at, effective_at)
    params: dict[str, Any] = {}
    if at is None and effective_at is None:
        where = []
        if accounts is not None:
            where.append("account = ANY(CAST(:accounts AS text[]))")
            params["accounts"] = list(accounts)
        if prefix is not None:
            where.append("account LIKE :prefix")
            params["prefix"] = like_prefix(prefix)
        if asset is not None:
            where.append("asset = :asset")
            params["asset"] = asset
        statement = text(sql.BALANCES_FROM_VOLUMES.format(where=" AND ".join(where)))
    else:
        legs = []
        for column, sign in (("destination", ""), ("source", "-")):
            where = []
            if accounts is not None:
                where.append(f"{column} = ANY(CAST(:accounts AS text[]))")
                params["accounts"] = list(accounts)
            if prefix is not None:
                where.append(f"{column} LIKE :prefix")
                params["prefix"] = like_prefix(prefix)
            if asset is not None:
                where.append("asset = :asset")
                params["asset"] = asset
            if at is not None:
                where.append("inserted_at <= :at")
                params["at"] = at
            if effective_at is not None:
                where.append("effective_at <= :effective_at")
                params["effective_at"] = effective_at
            legs.append(sql.BALANCE_LEG.format(column=column, sign=sign, where=" AND ".join(where)))
        statement = text(sql.BALANCES_FROM_POSTINGS.format(legs=" UNION ALL ".join(legs)))
    found: dict[str, dict[str, int]] = {}
    for row in await connection.execute(statement, params):
        found.setdefault(row.account, {})[row.asset] = as_int(row.balance)
    return found


async def accounts(
    connection: AsyncConnection, prefix: str | None, cursor: str | None, limit: int
) -> Page[Account]:
    """Addresses with volumes or metadata, in address order, with their metadata."""
    check_limit(limit)
    after = decode_position(cursor, "address", str)
    params: dict[str, Any] = {
        "after": after or "",
        "like": like_prefix(prefix or ""),
        "limit": limit + 1,
    }
    rows = (await connection.execute(sql.ACCOUNTS, params)).all()
    items = tuple(
        Account(address=row.address, metadata={str(k): str(v) for k, v in row.metadata.items()})
        for row in rows[:limit]
    )
    next_cursor = encode_cursor({"address": items[-1].address}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)


async def sum_volumes(
    connection: AsyncConnection, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(account, asset) -> current balance (the sum of its shards), unlocked."""
    if not pairs:
        return {}
    rows = await connection.execute(
        sql.READ_VOLUMES,
        {"b_account": [a for a, _ in pairs], "b_asset": [s for _, s in pairs]},
    )
    sums: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.account, row.asset)
        sums[key] = sums.get(key, 0) + as_int(row.balance)
    return sums

"""CSV exports of the console's tables: every page through the API's cursors (never just the
page shown), at the largest page size, with the same columns the table shows. An empty table
still exports its header row (never a 0-byte file)."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from typing import Any

from walletflow_dashboard import data
from walletflow_dashboard.api import Credential
from walletflow_dashboard.formatting import label

MAX_EXPORT_ROWS = 100_000
"""A bound on one export (the API pages at most `EXPORT_PAGE_SIZE` rows per request)."""

Fetch = Callable[[str], Awaitable[tuple[list[Any], data.Paged]]]


async def all_rows(fetch: Fetch) -> list[Any]:
    rows: list[Any] = []
    after = ""
    while len(rows) < MAX_EXPORT_ROWS:
        page, meta = await fetch(after)
        rows.extend(page)
        if not meta.has_next or not meta.end_cursor:
            break
        after = meta.end_cursor
    return rows[:MAX_EXPORT_ROWS]


def to_csv(row_type: type, rows: list[Any]) -> str:
    names = [f.name for f in fields(row_type)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([label(n) for n in names])
    for row in rows:
        values = asdict(row)
        writer.writerow(["" if values[n] is None else values[n] for n in names])
    return buffer.getvalue()


async def wallets_csv(credential: Credential, merchant_prefix: str) -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(lambda after: data.wallets(credential, merchant_prefix, size, after))
    return to_csv(data.WalletRow, rows)


async def holds_csv(credential: Credential, state: str, merchant_id: str, older: str) -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(
        lambda after: data.holds(credential, state, merchant_id, older, size, after)
    )
    return to_csv(data.HoldRow, rows)


async def queue_csv(credential: Credential) -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(lambda after: data.manual_review_queue(credential, size, after))
    return to_csv(data.HoldRow, rows)


async def postings_csv(credential: Credential, account: str) -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(lambda after: data.postings(credential, account, size, after))
    return to_csv(data.PostingRow, rows)


async def statement_csv(credential: Credential, merchant_id: str, currency: str) -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(
        lambda after: data.statement(credential, merchant_id, currency, size, after)
    )
    return to_csv(data.StatementRow, rows)


async def transactions_csv(credential: Credential, account: str = "") -> str:
    size = data.EXPORT_PAGE_SIZE
    rows = await all_rows(lambda after: data.transactions(credential, size, after, account))
    return to_csv(data.TxRow, rows)

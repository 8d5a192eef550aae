"""Ledger transactions, newest first, through the ledger port (either backend; the port hands
out its own cursors)."""

from __future__ import annotations

from datetime import datetime

from walletflow.ledger.port import LedgerPort, Transaction, TransactionFilter
from walletflow.views.pages import Slice, cursor_argument, page_size
from walletflow.views.visibility import Visibility


async def list_transactions(
    ledger: LedgerPort,
    visibility: Visibility,
    *,
    account: str | None = None,
    asset: str | None = None,
    reference: str | None = None,
    from_time: datetime | None = None,
    to_time: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Slice[Transaction]:
    """Transactions touching `account` (a merchant: under its own prefix), see
    `TransactionFilter`; each as the principal may see it (`Visibility.transaction`)."""
    size = page_size(first)
    tx_filter = TransactionFilter(
        account=visibility.account(account),
        asset=asset,
        reference=reference,
        start_time=from_time,
        end_time=to_time,
    )
    with cursor_argument("after"):
        page = await ledger.list_transactions(tx_filter, after, size)
    return Slice([visibility.transaction(tx) for tx in page.items], size, page.next_cursor)

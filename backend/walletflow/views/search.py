"""Global search of the console: one text, every kind of id an operator pastes.

A text is tried as a merchant id prefix (wallets), a ledger transaction id (digits), a
transaction reference (exact), a payout id prefix and a provider reference (exact, holds) and,
with a ':' in it, a ledger account address prefix. Each hit names its kind and id, so the
console links it to its detail page. Visibility as everywhere: a merchant finds only its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.db.schema_service import holds, wallets
from walletflow.db.sql import LIKE_ESCAPE, like_prefix
from walletflow.domain.errors import NotFound, ValidationError
from walletflow.ledger.port import LedgerPort, Transaction, TransactionFilter
from walletflow.views.visibility import Visibility

MAX_SEARCH_CHARS = 200
MAX_HITS_PER_KIND = 10
MAX_TX_ID = 2**63 - 1


@dataclass(frozen=True)
class SearchHit:
    kind: str
    """merchant | transaction | payout | account"""
    id: str
    label: str


def touches(tx: Transaction, prefix: str | None) -> bool:
    """Whether a transaction has a leg under `prefix` (None: everything is visible)."""
    if prefix is None:
        return True
    return any(p.source.startswith(prefix) or p.destination.startswith(prefix) for p in tx.postings)


async def search(
    connection: AsyncConnection,
    ledger: LedgerPort,
    visibility: Visibility,
    text: str,
    limit: int = MAX_HITS_PER_KIND,
) -> list[SearchHit]:
    """Hits for `text` (trimmed; empty: none), at most `limit` per kind."""
    text = text.strip()
    if len(text) > MAX_SEARCH_CHARS:
        raise ValidationError("search text too long", field_errors={"text": "too long"})
    if not text:
        return []
    limit = max(1, min(limit, MAX_HITS_PER_KIND))
    own = visibility.own_merchant
    own_prefix = visibility.account(None)
    hits: list[SearchHit] = []

    merchants = (
        select(wallets.c.merchant_id)
        .where(wallets.c.merchant_id.like(like_prefix(text), escape=LIKE_ESCAPE))
        .distinct()
        .order_by(wallets.c.merchant_id)
        .limit(limit)
    )
    if own is not None:
        merchants = merchants.where(wallets.c.merchant_id == own)
    for row in await connection.execute(merchants):
        hits.append(SearchHit("merchant", row.merchant_id, f"merchant {row.merchant_id}"))

    if text.isdigit() and int(text) <= MAX_TX_ID:
        try:
            tx = await ledger.get_transaction(int(text))
        except NotFound:
            pass
        else:
            if touches(tx, own_prefix):
                hits.append(SearchHit("transaction", str(tx.id), _tx_label(tx)))

    try:
        by_reference = await ledger.list_transactions(
            TransactionFilter(reference=text, account=own_prefix), None, limit
        )
    except ValidationError:
        by_reference = None
    for tx in by_reference.items if by_reference else ():
        if not any(h.kind == "transaction" and h.id == str(tx.id) for h in hits):
            hits.append(SearchHit("transaction", str(tx.id), _tx_label(tx)))

    payouts = (
        select(holds.c.payout_id, holds.c.merchant_id, holds.c.state, holds.c.provider_reference)
        .where(
            or_(
                holds.c.payout_id.like(like_prefix(text), escape=LIKE_ESCAPE),
                holds.c.provider_reference == text,
            )
        )
        .order_by(holds.c.payout_id)
        .limit(limit)
    )
    if own is not None:
        payouts = payouts.where(holds.c.merchant_id == own)
    for row in await connection.execute(payouts):
        via = " (provider reference)" if row.provider_reference == text else ""
        hits.append(
            SearchHit(
                "payout",
                row.payout_id,
                f"payout {row.payout_id} · {row.merchant_id} · {row.state}" + via,
            )
        )

    if ":" in text:
        prefix = text
        if own_prefix is not None and not prefix.startswith(own_prefix):
            prefix = ""
        if prefix:
            try:
                page = await ledger.accounts(prefix, None, limit)
            except ValidationError:
                page = None
            for account in page.items if page else ():
                hits.append(SearchHit("account", account.address, f"account {account.address}"))
    return hits


def _tx_label(tx: Transaction) -> str:
    reference = f" · {tx.reference}" if tx.reference else ""
    return f"transaction {tx.id}{reference} · {tx.effective_at.isoformat(timespec='seconds')}"

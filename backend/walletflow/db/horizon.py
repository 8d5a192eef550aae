"""Which database transactions have certainly finished: the rule a sealer needs to append rows
in a final, gap-free (xid, id) order without any writer taking a lock.

(The ledger's sealer has the same rule as `PostgresLedger._finished_horizon`; once the ledger
split lands it can call this one.)
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def finished_horizon(connection: AsyncConnection) -> int:
    """A full transaction id below which every transaction that could write rows here has
    finished: the least of the next xid and the xids of this database's running backends. Read
    it BEFORE the statement that selects the rows to seal, so that anything below it is already
    final in that later statement's snapshot. Backends of other databases (which cannot write
    our rows) do not hold sealing back. The caller's role must see the writers' backends in
    pg_stat_activity (the same role, or pg_read_all_stats)."""
    row = (
        await connection.execute(
            text(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS next_xid, "
                "array(SELECT backend_xid::text::bigint FROM pg_stat_activity "
                "      WHERE datname = current_database() AND backend_xid IS NOT NULL"
                "      AND pid <> pg_backend_pid()) AS running"
            )
        )
    ).one()
    next_xid = int(row.next_xid)
    horizon = next_xid
    epoch_base = next_xid & ~0xFFFF_FFFF
    for short_xid in row.running or []:
        full = epoch_base | int(short_xid)
        if full > next_xid:
            full -= 1 << 32
        horizon = min(horizon, full)
    return horizon

"""The volume cache: per-(account, asset, shard) input and output, kept in the write's own
transaction. Which rows a set of postings moves, in which order, and how a debit of a hot
account that may not go negative is spread over its shards.

Lock order: rows are upserted in (account, asset, shard) order, the same order a script's
locking read uses, so two writers always meet their common rows in the same order.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from walletflow.ledger.pg import sql
from walletflow.ledger.pg.codec import as_int
from walletflow.ledger.policy import OverdraftPolicy
from walletflow.ledger.port import Posting

SHARD_INFO_KEY = "walletflow.ledger.home_shard"
_HOME_SHARDS = itertools.count(random.randrange(1 << 16))

Spread = tuple[str, str, int, int]
"""(account, asset, input_minor, output_minor) of a debit to spread over an account's shards."""


def net_movements(postings: Sequence[Posting]) -> dict[tuple[str, str], tuple[int, int]]:
    """(account, asset) -> (input_minor, output_minor) over the postings, asserting the
    invariants: every amount is positive and, per asset, inputs equal outputs (the books foot)."""
    movements: dict[tuple[str, str], tuple[int, int]] = {}
    footing: dict[str, int] = {}
    for posting in postings:
        assert posting.amount_minor > 0, posting
        out_key = (posting.source, posting.asset)
        in_key = (posting.destination, posting.asset)
        input_minor, output_minor = movements.get(out_key, (0, 0))
        movements[out_key] = (input_minor, output_minor + posting.amount_minor)
        input_minor, output_minor = movements.get(in_key, (0, 0))
        movements[in_key] = (input_minor + posting.amount_minor, output_minor)
        footing[posting.asset] = footing.get(posting.asset, 0) + posting.amount_minor
    for asset in footing:
        inputs = sum(i for (_, a), (i, _) in movements.items() if a == asset)
        outputs = sum(o for (_, a), (_, o) in movements.items() if a == asset)
        assert inputs == outputs == footing[asset], (asset, inputs, outputs)
    return movements


@dataclass(frozen=True)
class VolumeRow:
    account: str
    asset: str
    shard: int
    input_minor: int
    output_minor: int
    may_go_negative: bool


def home_shard(connection: AsyncConnection) -> int:
    """The shard this pooled connection writes hot accounts to. Handed out round robin (from a
    random start per process): as long as there are at least as many shards as busy
    connections, two writers never meet on a hot account's row lock."""
    info = connection.info
    if SHARD_INFO_KEY not in info:
        info[SHARD_INFO_KEY] = next(_HOME_SHARDS)
    return int(info[SHARD_INFO_KEY])


def plan_volumes(
    postings: Sequence[Posting], policy: OverdraftPolicy, shard_hint: int
) -> tuple[list[VolumeRow], list[Spread]]:
    """Split the net movements into volume rows to upsert (sorted) and debits of hot
    never-negative accounts that must be spread over their shards."""
    rows: list[VolumeRow] = []
    spread: list[Spread] = []
    for (account, asset), (input_minor, output_minor) in sorted(net_movements(postings).items()):
        negative_ok = policy.may_go_negative(account)
        if policy.is_hot(account):
            if output_minor > 0 and not negative_ok:
                spread.append((account, asset, input_minor, output_minor))
                continue
            shard = shard_hint % policy.shard_count
        else:
            shard = 0
        rows.append(VolumeRow(account, asset, shard, input_minor, output_minor, negative_ok))
    return rows, spread


def volume_params(rows: Sequence[VolumeRow]) -> dict[str, Any]:
    """The `v_*` array parameters of `sql.WRITE` / `sql.UPSERT_VOLUMES`."""
    return {
        "v_account": [r.account for r in rows],
        "v_asset": [r.asset for r in rows],
        "v_shard": [r.shard for r in rows],
        "v_input": [Decimal(r.input_minor) for r in rows],
        "v_output": [Decimal(r.output_minor) for r in rows],
        # NULL for a debit of a protected account: see `ledger_volumes.may_go_negative`.
        "v_neg": [
            r.may_go_negative if r.may_go_negative or r.input_minor >= r.output_minor else None
            for r in rows
        ],
    }


def spread_debit(
    account: str, asset: str, available: dict[int, int], input_minor: int, output_minor: int
) -> tuple[list[VolumeRow], int]:
    """The rows that apply a movement to an account's shards (`available`: shard -> balance,
    locked), and the account's balance after it. The credit lands on the lowest shard first,
    then the debit is taken shard by shard; if the total is short the last shard goes negative
    and the CHECK refuses."""
    shards = dict(available) or {0: 0}
    first = min(shards)
    shards[first] += input_minor
    outputs: dict[int, int] = {}
    remaining = output_minor
    for shard in sorted(shards):
        take = min(remaining, max(shards[shard], 0))
        if take:
            outputs[shard] = take
            remaining -= take
    if remaining:
        last = max(shards)
        outputs[last] = outputs.get(last, 0) + remaining
    rows = [
        VolumeRow(
            account,
            asset,
            shard,
            input_minor if shard == first else 0,
            outputs.get(shard, 0),
            False,
        )
        for shard in sorted(set(outputs) | {first})
    ]
    assert sum(r.output_minor for r in rows) == output_minor
    assert sum(r.input_minor for r in rows) == input_minor
    return rows, sum(shards.values()) - output_minor


async def apply_in_order(
    connection: AsyncConnection, rows: Sequence[VolumeRow], spread: Sequence[Spread]
) -> dict[str, dict[str, int]]:
    """Apply plain rows in batches and spread debits one by one, in (account, asset) order, so
    the locks are taken in the same global order as the one-statement path."""
    post_balances: dict[str, dict[str, int]] = {}
    items: list[tuple[tuple[str, str], VolumeRow | Spread]] = [
        ((r.account, r.asset), r) for r in rows
    ] + [((s[0], s[1]), s) for s in spread]
    items.sort(key=lambda item: item[0])
    batch: list[VolumeRow] = []

    async def flush() -> None:
        if batch:
            result = await connection.execute(sql.UPSERT_VOLUMES, volume_params(batch))
            for row in result:
                post_balances.setdefault(row.account, {})[row.asset] = as_int(row.balance)
            batch.clear()

    for _, item in items:
        if isinstance(item, VolumeRow):
            batch.append(item)
            continue
        await flush()
        account, asset, input_minor, output_minor = item
        shards = (
            await connection.execute(sql.LOCK_SHARDS, {"account": account, "asset": asset})
        ).all()
        available = {int(s.shard): as_int(s.balance) for s in shards}
        spread_rows, balance = spread_debit(account, asset, available, input_minor, output_minor)
        result = await connection.execute(sql.UPSERT_VOLUMES, volume_params(spread_rows))
        result.all()
        post_balances.setdefault(account, {})[asset] = balance
    await flush()
    return post_balances

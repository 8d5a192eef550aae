"""Group commit for the built-in ledger's own-transaction posts.

Concurrent `post` calls that fit one statement (explicit postings, no idempotency key, no dry
run, no debit of a hot protected account) are queued and written together: one call of the
server-side `ledger_post_batch(items)` (migration 0017), run as its own implicit transaction,
so N posts cost one round trip and one commit instead of N of each. Inside the function each
item is its own subtransaction: one item's overdraft or reference conflict rolls back that item
only and comes back as that item's typed error. Every caller gets exactly its own result.

Bounds: at most `max_batch` posts per batch, and a batch waits at most `max_wait_s` for more
posts (0: no wait; posts that arrive while a batch is in flight form the next one). At most
`flushers` batches are in flight at once (each on its own pooled connection and home shard).

Failure: a batch that the server aborts as a whole (a deadlock, a serialization failure) is
rerun, at most MAX_ATTEMPTS times; any other error the server reports (the batch aborted, so
nothing of it committed) reruns each post alone on the ordinary path, so each caller gets its
own answer. An error without a server answer (the connection died: the outcome is unknown) is
given to every caller of the batch, exactly as a lone post would give it. A crash of the
process mid-batch leaves either the whole batch committed or none of it: nothing is doubled
and nothing half-written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.db.errors import DbFault, classify, is_retryable
from walletflow.domain.errors import (
    InsufficientFunds,
    ReferenceConflict,
    ValidationError,
    WalletflowError,
)
from walletflow.ledger.pg.errors import FAILING_ROW, OVERDRAFT_CHECK, map_error
from walletflow.ledger.pg.volumes import home_shard, plan_volumes
from walletflow.ledger.policy import OverdraftPolicy
from walletflow.ledger.port import PostRequest, PostResult, Transaction

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_BACKOFF_S = 0.01
DEFAULT_MAX_BATCH = 64
DEFAULT_MAX_WAIT_S = 0.0
DEFAULT_FLUSHERS = 2

POST_BATCH = text("SELECT ledger_post_batch(CAST(:items AS jsonb))::text AS answers")


@dataclass
class _Pending:
    request: PostRequest
    future: asyncio.Future[PostResult]


def _item(request: PostRequest, policy: OverdraftPolicy, shard: int) -> dict[str, Any]:
    rows, spread = plan_volumes(request.postings, policy, shard)
    assert not spread, "a post that debits a hot protected account is not batched"
    return {
        "reference": request.reference,
        "metadata": dict(request.metadata),
        "effective_at": request.effective_at.isoformat() if request.effective_at else None,
        "p": [[p.source, p.destination, p.asset, str(p.amount_minor)] for p in request.postings],
        "v": [
            [
                r.account,
                r.asset,
                r.shard,
                str(r.input_minor),
                str(r.output_minor),
                # NULL for a debit of a protected account, exactly as `volume_params`.
                r.may_go_negative if r.may_go_negative or r.input_minor >= r.output_minor else None,
            ]
            for r in rows
        ],
    }


def _answer(request: PostRequest, answer: dict[str, Any]) -> PostResult | WalletflowError:
    error = answer.get("error")
    if error == "REFERENCE_CONFLICT":
        return ReferenceConflict(
            f"a transaction with reference {request.reference!r} exists",
            details={"reference": request.reference},
        )
    if error is not None:
        return _constraint_error(str(answer.get("constraint")), str(answer.get("detail") or ""))
    post_balances: dict[str, dict[str, int]] = {}
    for account, asset, balance in answer["balances"]:
        post_balances.setdefault(account, {})[asset] = int(balance)
    transaction = Transaction(
        id=int(answer["id"]),
        postings=tuple(request.postings),
        reference=request.reference,
        metadata=dict(request.metadata),
        effective_at=datetime.fromisoformat(answer["effective_at"]),
        inserted_at=datetime.fromisoformat(answer["inserted_at"]),
        reverted=False,
        reverts_tx_id=None,
    )
    return PostResult(transaction=transaction, post_balances=post_balances)


def _constraint_error(constraint: str, detail: str) -> WalletflowError:
    """The typed error of one item the function refused (a CHECK or UNIQUE violation)."""
    if constraint == OVERDRAFT_CHECK:
        match = FAILING_ROW.search(detail)
        found = {"account": match.group(1), "asset": match.group(2)} if match else {}
        return InsufficientFunds("insufficient funds", details=found)
    return ValidationError(
        f"the ledger refused the post ({constraint})", field_errors={"postings": constraint}
    )


class GroupCommitter:
    """Coalesce concurrent one-statement posts into batches (see the module docstring)."""

    def __init__(
        self,
        engine: AsyncEngine,
        policy: OverdraftPolicy,
        alone: Callable[[PostRequest], Awaitable[PostResult]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        flushers: int = DEFAULT_FLUSHERS,
    ) -> None:
        assert max_batch >= 1 and max_wait_s >= 0 and flushers >= 1
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._policy = policy
        self._alone = alone
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.flushers = flushers
        self._pending: list[_Pending] = []
        self._running = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.batched_posts = 0

    async def post(self, request: PostRequest) -> PostResult:
        future: asyncio.Future[PostResult] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(request, future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._pending and self._running < self.flushers:
            self._running += 1
            task = asyncio.create_task(self._flush_loop())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush_loop(self) -> None:
        try:
            while self._pending:
                if len(self._pending) < self.max_batch and self.max_wait_s > 0:
                    await asyncio.sleep(self.max_wait_s)
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                if batch:
                    await self._run(batch)
        finally:
            self._running -= 1
            self._kick()

    async def _run(self, batch: list[_Pending]) -> None:
        try:
            answers = await self._write(batch)
        except _ServerRefused:
            # The batch aborted as a whole (nothing of it committed): each post alone.
            await asyncio.gather(*(self._post_alone(item) for item in batch))
            return
        except BaseException as error:  # unknown outcome: every caller sees what a post would
            mapped: BaseException = error
            if not isinstance(error, WalletflowError) and isinstance(error, Exception):
                mapped = map_error(error) or error
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(mapped)
            if not isinstance(error, Exception):
                raise
            return
        self.batches += 1
        self.batched_posts += len(batch)
        for item, answer in zip(batch, answers, strict=True):
            if item.future.done():
                continue
            outcome = _answer(item.request, answer)
            if isinstance(outcome, PostResult):
                item.future.set_result(outcome)
            else:
                item.future.set_exception(outcome)

    async def _post_alone(self, item: _Pending) -> None:
        try:
            result = await self._alone(item.request)
        except Exception as error:
            if not item.future.done():
                item.future.set_exception(error)
            return
        if not item.future.done():
            item.future.set_result(result)

    async def _write(self, batch: list[_Pending]) -> list[dict[str, Any]]:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                async with self._autocommit.connect() as connection:
                    return await self._call(connection, batch)
            except Exception as error:
                if is_retryable(error) and attempt < MAX_ATTEMPTS:
                    log.info("ledger batch retry %d after %s", attempt, type(error).__name__)
                    await asyncio.sleep(RETRY_BACKOFF_S * attempt * random.random())
                    continue
                if classify(error) not in (None, DbFault.UNAVAILABLE):
                    raise _ServerRefused from error
                raise
        raise AssertionError("unreachable: the loop returns or raises")

    async def _call(
        self, connection: AsyncConnection, batch: list[_Pending]
    ) -> list[dict[str, Any]]:
        shard = home_shard(connection)
        items = [_item(pending.request, self._policy, shard) for pending in batch]
        result = await connection.execute(POST_BATCH, {"items": json.dumps(items)})
        answers: list[dict[str, Any]] = json.loads(result.scalar_one())
        assert len(answers) == len(batch), "one answer per item"
        return answers


class _ServerRefused(Exception):
    """The server aborted a batch as a whole with an error it reported (nothing committed)."""

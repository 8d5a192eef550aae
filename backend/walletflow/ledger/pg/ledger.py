"""The built-in ledger's faces: the six port methods, written once over a connection strategy.

A `Connector` says where a call runs. `OwnTransactions(engine)` opens a transaction per call
(a post that is just the one write statement runs as that statement's implicit transaction:
one round trip), retried on a deadlock or serialization failure at most MAX_ATTEMPTS times.
`CallerTransaction(connection)` runs on a caller's open transaction: it never commits, rolls
back or retries; after an error the caller rolls back. Either way a database failure leaves as
the typed error `errors.map_error` names.

`PostgresLedger(engine)` is the ledger on its own transactions, with the hash chain's `seal()`
and `verify()`; `PostgresLedger.bound(connection)` is the same ledger inside a caller's unit of
work (a `PgLedger` on `CallerTransaction`).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import NoReturn, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.db.errors import is_retryable
from walletflow.domain.errors import WalletflowError
from walletflow.ledger.pg import reads
from walletflow.ledger.pg.errors import map_error
from walletflow.ledger.pg.group import GroupCommitter
from walletflow.ledger.pg.sealing import MAX_SEAL_BATCHES, Sealer, VerifyReport
from walletflow.ledger.pg.write import Writer, fits_one_statement
from walletflow.ledger.policy import DEFAULT_POLICY, OverdraftPolicy
from walletflow.ledger.port import (
    DEFAULT_PAGE_SIZE,
    Account,
    Page,
    PostRequest,
    PostResult,
    Transaction,
    TransactionFilter,
)
from walletflow.ledger.scripts import ProgramCache

log = logging.getLogger(__name__)

R = TypeVar("R")

MAX_ATTEMPTS = 4
RETRY_BACKOFF_S = 0.01

Work = Callable[[AsyncConnection], Awaitable[R]]


class Connector(Protocol):
    """Where one ledger call runs. `one_statement` says the work is a single statement that
    may run as its own implicit transaction (a hint; a caller's transaction ignores it)."""

    async def run(self, work: Work[R], *, one_statement: bool = False) -> R: ...


def _raise_mapped(error: Exception) -> NoReturn:
    mapped = map_error(error)
    if mapped is None:
        raise error
    raise mapped from error


class CallerTransaction:
    """Use the caller's open transaction. Never commits, rolls back or retries."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def run(self, work: Work[R], *, one_statement: bool = False) -> R:
        try:
            return await work(self._connection)
        except WalletflowError:
            raise
        except Exception as error:
            _raise_mapped(error)


class OwnTransactions:
    """Open a transaction from the engine per call; rerun it on a deadlock or serialization
    failure (at most MAX_ATTEMPTS times, with jittered backoff)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def run(self, work: Work[R], *, one_statement: bool = False) -> R:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if one_statement:
                    async with self._autocommit.connect() as connection:
                        return await work(connection)
                async with self._engine.begin() as connection:
                    return await work(connection)
            except WalletflowError:
                raise
            except Exception as error:
                if is_retryable(error) and attempt < MAX_ATTEMPTS:
                    log.info("ledger retry %d after %s", attempt, error.__class__.__name__)
                    await asyncio.sleep(RETRY_BACKOFF_S * attempt * random.random())
                    continue
                _raise_mapped(error)
        raise AssertionError("unreachable: the loop returns or raises")


class PgLedger:
    """The built-in ledger (a `LedgerPort`) over a connection strategy.

    `force` on `revert` is accepted for port compatibility and ignored: this ledger never lets
    an account the policy protects go negative (rule 3 cannot bend).
    """

    def __init__(
        self,
        connector: Connector,
        *,
        policy: OverdraftPolicy = DEFAULT_POLICY,
        programs: ProgramCache | None = None,
    ) -> None:
        self._connector = connector
        self.policy = policy
        self._programs = programs or ProgramCache()

    def _writer(self, connection: AsyncConnection) -> Writer:
        return Writer(connection, self.policy, self._programs)

    async def post(self, request: PostRequest) -> PostResult:
        return await self._connector.run(
            lambda connection: self._writer(connection).post(request),
            one_statement=fits_one_statement(request, self.policy),
        )

    async def revert(
        self,
        tx_id: int,
        *,
        reference: str | None = None,
        idempotency_key: str | None = None,
        metadata: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> PostResult:
        return await self._connector.run(
            lambda connection: self._writer(connection).revert(
                tx_id, reference=reference, idempotency_key=idempotency_key, metadata=metadata
            )
        )

    async def get_transaction(self, tx_id: int) -> Transaction:
        return await self._connector.run(
            lambda connection: reads.get_transaction(connection, tx_id)
        )

    async def list_transactions(
        self,
        filter: TransactionFilter | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[Transaction]:
        return await self._connector.run(
            lambda connection: reads.list_transactions(connection, filter, cursor, limit)
        )

    async def balances(
        self,
        accounts: Sequence[str] | None = None,
        prefix: str | None = None,
        asset: str | None = None,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> dict[str, dict[str, int]]:
        return await self._connector.run(
            lambda connection: reads.balances(connection, accounts, prefix, asset, at, effective_at)
        )

    async def accounts(
        self, prefix: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[Account]:
        return await self._connector.run(
            lambda connection: reads.accounts(connection, prefix, cursor, limit)
        )


class PostgresLedger(PgLedger):
    """The built-in ledger on its own transactions from `engine`, with the hash chain.
    `bound(connection)` gives the same ledger inside a caller's unit of work."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        policy: OverdraftPolicy = DEFAULT_POLICY,
        programs: ProgramCache | None = None,
        group_commit: tuple[int, float, int] | None = None,
    ) -> None:
        """`group_commit` = (max_batch, max_wait_s, flushers) coalesces concurrent
        one-statement posts into batches (`group.GroupCommitter`); None posts one by one."""
        super().__init__(OwnTransactions(engine), policy=policy, programs=programs)
        self._sealer = Sealer(engine)
        self.group: GroupCommitter | None = None
        if group_commit is not None:
            max_batch, max_wait_s, flushers = group_commit
            self.group = GroupCommitter(
                engine,
                self.policy,
                super().post,
                max_batch=max_batch,
                max_wait_s=max_wait_s,
                flushers=flushers,
            )

    async def post(self, request: PostRequest) -> PostResult:
        if self.group is not None and fits_one_statement(request, self.policy):
            return await self.group.post(request)
        return await super().post(request)

    def bound(self, connection: AsyncConnection) -> PgLedger:
        """This ledger on the caller's open transaction (shares the policy and the programs)."""
        return PgLedger(CallerTransaction(connection), policy=self.policy, programs=self._programs)

    async def seal(self, max_batches: int = MAX_SEAL_BATCHES) -> int:
        """Append every finished, unsealed transaction to the hash chain; return how many."""
        return await self._sealer.seal(max_batches)

    async def verify(self) -> VerifyReport:
        """Walk the hash chain and compare the volume cache with the postings."""
        return await self._sealer.verify()

"""One unit of work = one database transaction holding the ledger write, the command state and
the outbox events of one command. It commits once, or not at all.

With the built-in Postgres ledger the ledger is bound to this transaction's connection, so a
crash anywhere leaves nothing half-written. (With the Formance backend the ledger write is an
HTTP call made idempotent by the same key; see ledger/formance.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from walletflow.config import CompletionGating, FlagMode
from walletflow.domain.errors import NotFound
from walletflow.domain.principals import Principal
from walletflow.ledger.port import LedgerPort
from walletflow.ledger.templates import TemplateCatalog
from walletflow.service.clock import Clock
from walletflow.service.flags import check_enabled
from walletflow.service.rails import PayoutRails
from walletflow.service.repositories import (
    Claims,
    CommandLog,
    Flags,
    FxBook,
    Holds,
    Wallets,
    finish_command,
    preflight_facts,
)

LedgerFactory = Callable[[AsyncConnection], LedgerPort]
MAX_EVENTS_PER_UNIT = 100


@dataclass(frozen=True)
class ServicePolicy:
    flag_mode: FlagMode = FlagMode.FAIL_OPEN
    completion_gating: CompletionGating = CompletionGating.RECORD
    payout_rails: PayoutRails = field(default_factory=PayoutRails)
    """The rails a payout may name (bootstrap loads them from the providers file)."""


@dataclass(frozen=True)
class CommandContext:
    """Which command this unit of work runs, for whom, under which idempotency claim."""

    command: str
    principal: Principal
    idempotency_key: str
    scope: str


@dataclass
class PendingEvent:
    event_type: str
    payload: dict[str, Any]
    merchant_id: str | None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        ledger_factory: LedgerFactory,
        clock: Clock,
        policy: ServicePolicy,
        templates: TemplateCatalog,
    ) -> None:
        self._engine = engine
        self.templates = templates
        self._context: CommandContext | None = None
        self._ledger_factory = ledger_factory
        self.clock = clock
        self.policy = policy
        self._connection: AsyncConnection | None = None
        self._transaction: AsyncTransaction | None = None
        self._events: list[PendingEvent] = []

    async def __aenter__(self) -> UnitOfWork:
        self._connection = await self._engine.connect()
        self._transaction = await self._connection.begin()
        self.ledger = self._ledger_factory(self._connection)
        self.claims = Claims(self._connection)
        self.holds = Holds(self._connection)
        self.wallets = Wallets(self._connection)
        self.flags = Flags(self._connection)
        self.command_log = CommandLog(self._connection)
        self.fx = FxBook(self._connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._connection is not None
        try:
            if self._transaction is not None and self._transaction.is_active:
                await self._transaction.rollback()
        finally:
            await self._connection.close()

    @property
    def connection(self) -> AsyncConnection:
        assert self._connection is not None, "unit of work not entered"
        return self._connection

    @property
    def context(self) -> CommandContext:
        assert self._context is not None, "no command context: run handlers through the bus"
        return self._context

    def begin_command(self, context: CommandContext) -> None:
        assert self._context is None, "one command per unit of work"
        self._context = context

    def emit(self, event_type: str, payload: dict[str, Any], merchant_id: str | None) -> str:
        """Queue an outbox event; it is written in this transaction at commit."""
        assert len(self._events) < MAX_EVENTS_PER_UNIT, "too many events in one unit of work"
        event = PendingEvent(event_type, payload, merchant_id)
        self._events.append(event)
        return event.event_id

    async def preflight(
        self,
        *,
        wallets: list[tuple[str, str]],
        flags: list[tuple[str, str]] | None = None,
    ) -> None:
        """In one round trip: every (merchant, currency) wallet exists (else NotFound) and, if
        `flags` scopes are given, the core wallet is enabled for them (else FlagDenied)."""
        facts = await preflight_facts(self.connection, wallets, flags or [])
        for merchant_id, currency in wallets:
            if (merchant_id, currency) not in facts.found_wallets:
                raise NotFound(
                    f"merchant {merchant_id} has no {currency} wallet",
                    details={"merchantId": merchant_id, "currency": currency},
                )
        if flags:
            check_enabled(self.policy.flag_mode, flags, facts.flag_states)

    def _event_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "event_id": event.event_id,
                "event_type": event.event_type,
                "merchant_id": event.merchant_id,
                "payload": {**event.payload, "eventId": event.event_id, "type": event.event_type},
            }
            for event in self._events
        ]

    async def commit(self) -> None:
        """Commit work that raised no events (events are written by `finish_command`)."""
        assert self._transaction is not None and self._transaction.is_active
        assert not self._events, "a unit of work with events ends in finish_command"
        await self._transaction.commit()

    async def finish_command(
        self, *, scope: str, key: str, response: dict[str, Any], log: dict[str, Any]
    ) -> None:
        """Store the response in the claim, log the command, write the events, commit: the
        writes are one statement, so a command costs one round trip here, not three."""
        assert self._transaction is not None and self._transaction.is_active
        await finish_command(
            self.connection,
            scope=scope,
            key=key,
            response=response,
            log={**log, "created_at": self.clock.now()},
            events=self._event_rows(),
        )
        self._events.clear()
        await self._transaction.commit()


UnitOfWorkFactory = Callable[[], UnitOfWork]

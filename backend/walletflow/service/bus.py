"""The command bus: the one path every command takes, from any entry point.

validate input → authorize → open one unit of work → claim (scope, key) with the request hash →
run the handler (ledger write, state, outbox events) → store the result in the claim → commit
once → return it. A replay with the same body returns the stored result, forever; a replay with
another body is refused with IDEMPOTENCY_KEY_REUSED. A failure rolls everything back, including
the claim, so the key stays free for a corrected retry; the failure itself is logged apart.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from walletflow.db.errors import database_error
from walletflow.domain.errors import (
    IdempotencyKeyReused,
    Unavailable,
    ValidationError,
    WalletflowError,
)
from walletflow.domain.principals import Principal
from walletflow.observability.tracing import set_attribute, span
from walletflow.service.fields import parse_input
from walletflow.service.key_namespaces import check_key_namespace
from walletflow.service.registry import CommandSpec, Registry, authorize
from walletflow.service.results import CommandOutcome, CommandResult
from walletflow.service.unit_of_work import CommandContext, UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}\Z")
# A deadlock or serialization failure aborts the whole unit of work; it is then safe to run
# again from the start. Bounded, with jitter.
MAX_ATTEMPTS = 3
RETRY_BACKOFF_S = 0.02

CommandObserver = Callable[[str, str, float], None]
"""observer(command, outcome, duration_s): outcome is `ok`, `replayed` or the error's code."""


def check_idempotency_key(key: object) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.match(key):
        raise ValidationError(
            "idempotencyKey must be 1-200 printable ASCII characters without spaces",
            field_errors={"idempotencyKey": "malformed"},
        )
    return key


def request_hash(command: str, values: Mapping[str, Any]) -> str:
    """A stable hash of the validated request: same meaning, same hash."""
    canonical = json.dumps(
        {"command": command, "input": values},
        sort_keys=True,
        default=_canonical,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return sorted(value) if not isinstance(value, tuple) else list(value)
    raise TypeError(f"cannot hash {type(value).__name__}")


@dataclass(frozen=True)
class _Call:
    """One validated, authorized request on its way through the bus."""

    spec: CommandSpec
    command: Any
    values: Mapping[str, Any]
    principal: Principal
    key: str
    scope: str
    fingerprint: str

    @property
    def merchant_id(self) -> str | None:
        found = self.values.get(self.spec.merchant_field or "merchant_id")
        return found if isinstance(found, str) else None


class CommandBus:
    def __init__(
        self,
        registry: Registry,
        unit_of_work: UnitOfWorkFactory,
        observer: CommandObserver | None = None,
    ) -> None:
        self.registry = registry
        self._unit_of_work = unit_of_work
        self._observer = observer
        self._names = frozenset(registry.names())

    async def execute(
        self,
        name: str,
        raw_input: Mapping[str, Any],
        principal: Principal,
        idempotency_key: str,
    ) -> CommandOutcome:
        """Run one command (see the module's docstring); every call, whatever its end, is
        reported to the observer (metrics) and, with tracing on, is one span."""
        started = time.perf_counter()
        outcome = "INTERNAL_ERROR"
        with span(f"command {name}", attributes={"walletflow.command": name}) as current:
            try:
                result = await self._execute(name, raw_input, principal, idempotency_key)
                outcome = "replayed" if result.replayed else "ok"
                return result
            except WalletflowError as error:
                outcome = error.code
                raise
            finally:
                set_attribute(current, "walletflow.outcome", outcome)
                if self._observer is not None:
                    known = name if name in self._names else "unknown"
                    self._observer(known, outcome, time.perf_counter() - started)

    async def _execute(
        self,
        name: str,
        raw_input: Mapping[str, Any],
        principal: Principal,
        idempotency_key: str,
    ) -> CommandOutcome:
        spec = self.registry.get(name)
        key = check_idempotency_key(idempotency_key)
        values = parse_input(spec.fields, raw_input)
        authorize(spec, principal, values)
        check_key_namespace(principal, key)
        call = _Call(
            spec=spec,
            command=spec.build(values),
            values=values,
            principal=principal,
            key=key,
            scope=principal.idempotency_scope,
            fingerprint=request_hash(name, values),
        )
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                outcome = await self._run_unit(call)
            except Unavailable:
                if attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(RETRY_BACKOFF_S * attempt * random.random())
                continue
            except IdempotencyKeyReused:
                raise
            except WalletflowError as error:
                await self._log_failure(call, error)
                raise
            # What the caller may see of it (a merchant: its own accounts only); the claim
            # keeps the whole result.
            return outcome.visible_to(principal)
        raise AssertionError("unreachable: the loop returns or raises")

    async def _run_unit(self, call: _Call) -> CommandOutcome:
        """One attempt: the whole command in one unit of work, committed once or not at all."""
        name = call.spec.name
        try:
            async with self._unit_of_work() as uow:
                stored = await uow.claims.claim(call.scope, call.key, call.fingerprint)
                if stored is not None:
                    return _replay(name, call, stored.request_hash, stored.response)
                uow.begin_command(CommandContext(name, call.principal, call.key, call.scope))
                result = await call.spec.handler(call.command, uow)
                assert result.command == name, "a handler answers for its own command"
                await uow.finish_command(
                    scope=call.scope,
                    key=call.key,
                    response=result.to_json(),
                    log={
                        "command": name,
                        "actor": call.principal.subject,
                        "reference": result.reference,
                        "transaction_id": result.transaction_id,
                        "merchant_id": call.merchant_id,
                    },
                )
                return CommandOutcome(result=result, replayed=False)
        except WalletflowError:
            raise
        except Exception as error:
            mapped = database_error(error)
            if mapped is None:
                raise
            raise mapped from error

    async def _log_failure(self, call: _Call, error: WalletflowError) -> None:
        """Record a failed command in its own transaction (the command's own rolled back)."""
        try:
            async with self._unit_of_work() as uow:
                await uow.command_log.record(
                    command=call.spec.name,
                    scope=call.scope,
                    idempotency_key=call.key,
                    actor=call.principal.subject,
                    status="failed",
                    error_code=error.code,
                    merchant_id=call.merchant_id,
                    created_at=uow.clock.now(),
                )
                await uow.commit()
        except Exception:
            log.exception("could not log the failure of %s", call.spec.name)


def _replay(name: str, call: _Call, stored_hash: str, response: dict[str, Any]) -> CommandOutcome:
    if stored_hash != call.fingerprint:
        raise IdempotencyKeyReused(
            f"idempotency key {call.key!r} was used before with a different request",
            details={"command": name},
        )
    assert response.get("status") != "pending", "a committed claim always holds its response"
    return CommandOutcome(result=CommandResult.from_json(response), replayed=True)


__all__ = ["CommandBus", "UnitOfWork", "check_idempotency_key", "request_hash"]

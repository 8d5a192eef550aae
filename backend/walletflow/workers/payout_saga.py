"""The payout saga: submit → requery (bounded backoff) → settle | release | manual review.

State lives in Postgres (`payout_sagas`), one row per payout, so any worker can continue any
saga. A worker owns a saga only while it holds its lease (`lease_owner`, `lease_expires_at`,
taken with a conditional UPDATE on expired leases, `FOR UPDATE SKIP LOCKED`); every write of a
step is conditional on still owning it. A worker killed with `kill -9` at any point simply stops
renewing: once the lease expires another worker takes the saga from its last recorded state.

    pending_submit ─► submitted ─► (final answer) ─────────────► completing ─► done
                          │                                          ▲   │
                          └─► requerying ─(final answer)─────────────┘   └─► manual_review
                                  └─(budget spent, still no answer)──┘

Why nothing is paid twice, settled twice or lost:
- the payout_id is the provider's idempotency key: a resubmit after a crash returns the first
  payout, it never creates a second one;
- completions go through the command bus with deterministic idempotency keys
  (`saga:<payout_id>:settle|release|manual_review`) and inputs rebuilt from the saga row, so a
  crash between the bus commit and the saga's own update replays the stored result;
- settle and release are exclusive in the database (holds constraint);
- a reserved hold with no saga row is picked up by every tick (`start_sagas_for_reserved_holds`),
  so a payout reserved while the relay was down still gets its saga.

DESIGN rule 6: PENDING, UNKNOWN, timeouts and 5xx are requeried, never treated as failures; when
the requery budget is spent the payout goes to manual review, never to a release. Only a
definitive FAILED releases the hold. A hold already settled/released (a provider webhook or an
operator got there first) ends the saga cleanly. With completion gating on, a completion refused
by a disabled flag (`FLAG_DENIED`) waits and is retried later; it is not a failure.

Those decisions are pure functions in `saga_rules` (unit-tested over their whole input space);
this module does the I/O around them: leases, provider calls, commands, saving the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from walletflow.config import ConfigError
from walletflow.db.schema_service import holds
from walletflow.db.schema_workers import payout_sagas
from walletflow.domain.errors import (
    FlagDenied,
    IllegalStateTransition,
    ValidationError,
    WalletflowError,
)
from walletflow.domain.principals import SYSTEM_SAGA
from walletflow.providers.port import PayoutRequest, ProviderOutcome, ProviderPort
from walletflow.service.bus import CommandBus
from walletflow.workers.config import SagaConfig
from walletflow.workers.saga_rules import (
    BusAnswer,
    Completion,
    EnterCompletion,
    Finish,
    RequeryAfter,
    RetryCompletion,
    SagaState,
    Step,
    WaitGated,
    cannot_submit,
    completion_command,
    decide_on_answer,
    decide_on_completion,
    next_step,
    should_resubmit,
)

log = logging.getLogger(__name__)

MAX_RAW_CHARS = 2000
LEASE_MARGIN_S = 1.0
"""A lease covers one provider call (its timeout) plus this much for the database work."""
REASON_PROVIDER_NOT_CONFIGURED = "PROVIDER_NOT_CONFIGURED"


__all__ = [
    "HoldView",
    "PayoutSagaRunner",
    "SagaRow",
    "SagaTickReport",
    "check_lease_covers_calls",
    "saga_counts",
    "start_sagas",
    "start_sagas_for_reserved_holds",
]


class ProviderLookup(Protocol):
    """What the saga needs of `ProviderRegistry`."""

    def get(self, name: str) -> ProviderPort: ...


@dataclass(frozen=True)
class SagaRow:
    payout_id: str
    state: SagaState
    attempts: int
    completion: Completion | None
    provider_reference: str | None
    last_outcome: dict[str, Any] | None


@dataclass(frozen=True)
class HoldView:
    payout_id: str
    merchant_id: str
    asset: str
    amount_minor: int
    provider: str
    destination: dict[str, Any]
    state: str


@dataclass
class SagaTickReport:
    started: int = 0
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"started": self.started, "claimed": self.claimed, "outcomes": dict(self.outcomes)}


async def start_sagas(connection: AsyncConnection, payout_ids: list[str]) -> int:
    """Create a `pending_submit` saga for each payout that has none; returns how many."""
    if not payout_ids:
        return 0
    statement = (
        pg_insert(payout_sagas)
        .values([{"payout_id": pid, "state": SagaState.PENDING_SUBMIT.value} for pid in payout_ids])
        .on_conflict_do_nothing(index_elements=["payout_id"])
        .returning(payout_sagas.c.payout_id)
    )
    return len((await connection.execute(statement)).all())


async def start_sagas_for_reserved_holds(connection: AsyncConnection, limit: int) -> int:
    """The backstop: a saga for every reserved hold without one (relay down, saga rows lost)."""
    assert 1 <= limit <= 10_000
    result = await connection.execute(
        text(
            "INSERT INTO payout_sagas (payout_id, state)"
            " SELECT h.payout_id, 'pending_submit' FROM holds h"
            " LEFT JOIN payout_sagas s ON s.payout_id = h.payout_id"
            " WHERE h.state = 'reserved' AND s.payout_id IS NULL"
            " ORDER BY h.created_at LIMIT :limit"
            " ON CONFLICT (payout_id) DO NOTHING RETURNING payout_id"
        ),
        {"limit": limit},
    )
    return len(result.all())


async def saga_counts(connection: AsyncConnection) -> dict[str, int]:
    """Sagas per state, for metrics and the dashboard."""
    rows = await connection.execute(
        select(payout_sagas.c.state, func.count()).group_by(payout_sagas.c.state)
    )
    counts = {state.value: 0 for state in SagaState}
    for state, count in rows.all():
        counts[str(state)] = int(count)
    return counts


_CLAIM_SQL = text(
    "UPDATE payout_sagas AS s"
    " SET lease_owner = :owner, lease_expires_at = now() + make_interval(secs => :lease_s)"
    " FROM (SELECT payout_id FROM payout_sagas"
    "       WHERE state NOT IN ('done', 'manual_review') AND next_attempt_at <= now()"
    "         AND (lease_expires_at IS NULL OR lease_expires_at < now())"
    "       ORDER BY next_attempt_at LIMIT :batch FOR UPDATE SKIP LOCKED) AS due"
    " WHERE s.payout_id = due.payout_id"
    "   AND (s.lease_expires_at IS NULL OR s.lease_expires_at < now())"
    " RETURNING s.payout_id, s.state, s.attempts, s.completion, s.provider_reference,"
    "           s.last_outcome"
)

_SAVE_SQL = text(
    "UPDATE payout_sagas SET state = :state, attempts = :attempts, completion = :completion,"
    " provider_reference = :provider_reference, last_outcome = CAST(:last_outcome AS JSONB),"
    " last_error = :last_error, updated_at = now(),"
    " next_attempt_at = now() + make_interval(secs => :delay_s),"
    " lease_owner = CASE WHEN :keep_lease THEN lease_owner END,"
    " lease_expires_at = CASE WHEN :keep_lease"
    "   THEN now() + make_interval(secs => :lease_s) END"
    " WHERE payout_id = :payout_id AND lease_owner = :owner"
    "   AND lease_expires_at > now()"
    " RETURNING payout_id"
)


_RELEASE_SQL = text(
    "UPDATE payout_sagas SET lease_owner = NULL, lease_expires_at = NULL,"
    " last_error = :last_error, updated_at = now(),"
    " next_attempt_at = now() + make_interval(secs => :delay_s)"
    " WHERE payout_id = :payout_id AND lease_owner = :owner"
)


def _row(mapping: Mapping[Any, Any]) -> SagaRow:
    completion = mapping["completion"]
    return SagaRow(
        payout_id=mapping["payout_id"],
        state=SagaState(mapping["state"]),
        attempts=int(mapping["attempts"]),
        completion=Completion(completion) if completion else None,
        provider_reference=mapping["provider_reference"],
        last_outcome=mapping["last_outcome"],
    )


def _outcome_json(outcome: ProviderOutcome) -> dict[str, Any]:
    raw = str(outcome.raw)
    return {
        "status": outcome.status.value,
        "reason": outcome.reason,
        "providerReference": outcome.provider_reference,
        "raw": raw if len(raw) <= MAX_RAW_CHARS else raw[:MAX_RAW_CHARS] + "…",
    }


def check_lease_covers_calls(config: SagaConfig, provider_timeouts_s: dict[str, float]) -> None:
    """A step makes at most one provider call per lease renewal; a lease shorter than a call
    would let a second worker take a saga whose call is still in flight."""
    for name, timeout_s in sorted(provider_timeouts_s.items()):
        if config.lease_s < timeout_s + LEASE_MARGIN_S:
            raise ConfigError(
                "SAGA_LEASE_S",
                f"must be at least provider {name!r} timeout_s ({timeout_s:g}) + "
                f"{LEASE_MARGIN_S:g} s (got {config.lease_s:g})",
            )


class _LeaseLost(Exception):
    """Another worker owns the saga now; this one stops touching it."""


class PayoutSagaRunner:
    """Advances due sagas. One per worker process; `owner` names it in leases."""

    def __init__(
        self,
        engine: AsyncEngine,
        bus: CommandBus,
        providers: ProviderLookup,
        config: SagaConfig,
        owner: str,
        *,
        callback_base_url: str | None = None,
    ) -> None:
        assert owner
        self.engine = engine
        self.bus = bus
        self.providers = providers
        self.config = config
        self.owner = owner
        self.callback_base_url = callback_base_url

    async def tick(self) -> SagaTickReport:
        """Start sagas for orphaned reserved holds, then advance every due saga (bounded)."""
        report = SagaTickReport()
        async with self.engine.begin() as connection:
            report.started = await start_sagas_for_reserved_holds(
                connection, self.config.start_scan_batch
            )
            rows = (
                (
                    await connection.execute(
                        _CLAIM_SQL,
                        {
                            "owner": self.owner,
                            "lease_s": self.config.lease_s,
                            "batch": self.config.batch,
                        },
                    )
                )
                .mappings()
                .all()
            )
        claimed = [_row(row) for row in rows]
        report.claimed = len(claimed)
        results = await asyncio.gather(*(self.run_claimed(row) for row in claimed))
        for result in results:
            report.outcomes[result] = report.outcomes.get(result, 0) + 1
        return report

    async def run_claimed(self, row: SagaRow) -> str:
        """Chain a bounded number of steps on one claimed saga; returns what became of it."""
        current: SagaRow | None = row
        try:
            for _ in range(self.config.max_steps_per_claim):
                assert current is not None
                current = await self._step(current)
                if current is None:
                    break
            else:
                assert current is not None
                await self._save(current, delay_s=0.0)
                return "yielded"
        except _LeaseLost:
            log.info("saga %s: lease lost, another worker continues", row.payout_id)
            return "lease_lost"
        except Exception:
            log.exception(
                "saga %s: unexpected error; retrying after the backoff cap", row.payout_id
            )
            # Keep whatever state the saga last recorded; only hand it back for later.
            with contextlib.suppress(Exception):
                await self._release(row.payout_id, self.config.backoff_cap_s, "unexpected error")
            return "error"
        return await self._state_of(row.payout_id)

    async def _release(self, payout_id: str, delay_s: float, last_error: str) -> None:
        """Give the lease back without touching the recorded state."""
        async with self.engine.begin() as connection:
            await connection.execute(
                _RELEASE_SQL,
                {
                    "payout_id": payout_id,
                    "owner": self.owner,
                    "delay_s": float(delay_s),
                    "last_error": last_error,
                },
            )

    async def _state_of(self, payout_id: str) -> str:
        async with self.engine.connect() as connection:
            state = (
                await connection.execute(
                    select(payout_sagas.c.state).where(payout_sagas.c.payout_id == payout_id)
                )
            ).scalar_one()
        return str(state)

    # --- steps ---------------------------------------------------------------------------------
    async def _step(self, row: SagaRow) -> SagaRow | None:
        """One step. Returns the saga to continue with now, or None when it waits or ended."""
        hold = await self._hold(row.payout_id)
        step = next_step(row.state, hold.state if hold is not None else None)
        if isinstance(step, Finish):
            if hold is None:
                log.error("saga %s has no hold; ending it", row.payout_id)
            await self._save(row, state=step.state, last_error=step.last_error)
            return None
        if step is Step.COMPLETE:
            return await self._complete(row)
        assert hold is not None
        if step is Step.SUBMIT:
            return await self._submit(row, hold)
        return await self._requery(row, hold)

    async def _submit(self, row: SagaRow, hold: HoldView) -> SagaRow | None:
        try:
            request = self._request(hold)
        except ValidationError as error:
            outcome = ProviderOutcome.unknown(f"INVALID_PAYOUT_REQUEST: {error.field_errors}")
            assert outcome.reason is not None
            return await self._enter_completing(row, cannot_submit(outcome.reason), outcome)
        # Record that a submit may be in flight before making it (audit; resume resubmits).
        submitted = await self._save(row, state=SagaState.SUBMITTED, keep_lease=True)
        outcome = await self._call(hold.provider, "submit", request)
        return await self._after_answer(submitted, hold, outcome, requeries_done=0)

    async def _requery(self, row: SagaRow, hold: HoldView) -> SagaRow | None:
        outcome = await self._call(hold.provider, "query", None, payout_id=row.payout_id)
        if should_resubmit(outcome):
            try:
                request = self._request(hold)
            except ValidationError:
                request = None
            if request is not None:
                row = await self._save(row, keep_lease=True)  # renew: one call per lease
                outcome = await self._call(hold.provider, "submit", request)
        return await self._after_answer(row, hold, outcome, requeries_done=row.attempts + 1)

    async def _after_answer(
        self, row: SagaRow, hold: HoldView, outcome: ProviderOutcome, *, requeries_done: int
    ) -> SagaRow | None:
        decision = decide_on_answer(
            outcome, provider=hold.provider, requeries_done=requeries_done, config=self.config
        )
        if isinstance(decision, EnterCompletion):
            return await self._enter_completing(row, decision, outcome)
        assert isinstance(decision, RequeryAfter)
        await self._save(
            row,
            state=SagaState.REQUERYING,
            attempts=decision.attempts,
            last_outcome=_outcome_json(outcome),
            reference=outcome.provider_reference or row.provider_reference,
            delay_s=decision.delay_s,
            last_error=None,
        )
        return None

    async def _enter_completing(
        self, row: SagaRow, decision: EnterCompletion, outcome: ProviderOutcome
    ) -> SagaRow:
        last_outcome = {**_outcome_json(outcome), "completionReason": decision.reason}
        return await self._save(
            row,
            state=SagaState.COMPLETING,
            attempts=0,
            completion=decision.completion,
            reference=decision.reference or row.provider_reference,
            last_outcome=last_outcome,
            keep_lease=True,
            last_error=None,
        )

    async def _complete(self, row: SagaRow) -> SagaRow | None:
        assert row.completion is not None, f"saga {row.payout_id} completing without a target"
        command = completion_command(
            row.payout_id,
            row.completion,
            provider_reference=row.provider_reference,
            completion_reason=(row.last_outcome or {}).get("completionReason"),
        )
        answer, error = BusAnswer.RECORDED, None
        try:
            await self.bus.execute(
                command.name, command.raw_input, SYSTEM_SAGA, command.idempotency_key
            )
        except FlagDenied as denied:
            answer, error = BusAnswer.GATED, f"{denied.code}: {denied}"
        except IllegalStateTransition as illegal:
            answer, error = BusAnswer.HOLD_FINISHED, f"{illegal.code}: {illegal}"
        except WalletflowError as refused:
            answer, error = BusAnswer.REFUSED, f"{refused.code}: {refused}"
        if answer is BusAnswer.REFUSED:
            failed = row.attempts + 1
            log.warning("saga %s: %s failed (%d): %s", row.payout_id, row.completion, failed, error)
        decision = decide_on_completion(
            row.completion, answer, attempts=row.attempts, error=error, config=self.config
        )
        if isinstance(decision, Finish):
            await self._save(row, state=decision.state, last_error=decision.last_error)
            return None
        if isinstance(decision, WaitGated):
            # Completion gating: a hard freeze holds the completion; it is not a failure.
            await self._save(row, delay_s=decision.delay_s, last_error=decision.last_error)
            return None
        if isinstance(decision, RetryCompletion):
            await self._save(
                row,
                attempts=decision.attempts,
                delay_s=decision.delay_s,
                last_error=decision.last_error,
            )
            return None
        outcome = ProviderOutcome.unknown(f"COMPLETION_FAILED: {error}")
        return await self._enter_completing(row, decision, outcome)

    # --- helpers -------------------------------------------------------------------------------
    def _request(self, hold: HoldView) -> PayoutRequest:
        callback_url = None
        if self.callback_base_url:
            callback_url = f"{self.callback_base_url.rstrip('/')}/webhooks/{hold.provider}"
        return PayoutRequest(
            payout_id=hold.payout_id,
            merchant_id=hold.merchant_id,
            asset=hold.asset,
            amount_minor=hold.amount_minor,
            destination=hold.destination,
            callback_url=callback_url,
        )

    async def _call(
        self,
        provider_name: str,
        operation: str,
        request: PayoutRequest | None,
        *,
        payout_id: str | None = None,
    ) -> ProviderOutcome:
        try:
            provider = self.providers.get(provider_name)
        except WalletflowError:
            return ProviderOutcome.unknown(REASON_PROVIDER_NOT_CONFIGURED)
        if operation == "submit":
            assert request is not None
            return await provider.submit_payout(request)
        assert payout_id is not None
        return await provider.query_payout(payout_id)

    async def _hold(self, payout_id: str) -> HoldView | None:
        async with self.engine.connect() as connection:
            row = (
                (await connection.execute(select(holds).where(holds.c.payout_id == payout_id)))
                .mappings()
                .one_or_none()
            )
        if row is None:
            return None
        return HoldView(
            payout_id=row["payout_id"],
            merchant_id=row["merchant_id"],
            asset=row["asset"],
            amount_minor=int(row["amount_minor"]),
            provider=row["provider"],
            destination=dict(row["destination"]),
            state=row["state"],
        )

    async def _save(
        self,
        row: SagaRow,
        *,
        state: SagaState | None = None,
        attempts: int | None = None,
        completion: Completion | None = None,
        reference: str | None = None,
        last_outcome: dict[str, Any] | None = None,
        last_error: str | None = None,
        delay_s: float = 0.0,
        keep_lease: bool = False,
    ) -> SagaRow:
        """Write the saga's next state if this worker still holds the lease (else `_LeaseLost`).
        `keep_lease` renews the lease to continue at once; otherwise the lease is released and
        the saga is due again after `delay_s`."""
        assert delay_s >= 0.0
        updated = SagaRow(
            payout_id=row.payout_id,
            state=state or row.state,
            attempts=row.attempts if attempts is None else attempts,
            completion=completion or row.completion,
            provider_reference=reference or row.provider_reference,
            last_outcome=last_outcome if last_outcome is not None else row.last_outcome,
        )
        async with self.engine.begin() as connection:
            result = await connection.execute(
                _SAVE_SQL,
                {
                    "state": updated.state.value,
                    "attempts": updated.attempts,
                    "completion": updated.completion.value if updated.completion else None,
                    "provider_reference": updated.provider_reference,
                    "last_outcome": (
                        json.dumps(updated.last_outcome)
                        if updated.last_outcome is not None
                        else None
                    ),
                    "last_error": last_error,
                    "delay_s": float(delay_s),
                    "keep_lease": keep_lease,
                    "lease_s": self.config.lease_s,
                    "payout_id": row.payout_id,
                    "owner": self.owner,
                },
            )
            if result.first() is None:
                raise _LeaseLost(row.payout_id)
        return updated

"""The payout saga's decisions, as pure functions: no database, no provider, no clock.

`payout_saga` does the I/O (claim, call the rail, run a command, save the row) and asks these
functions what to do next:

- `next_step(saga_state, hold_state)`: submit, requery, complete, or end the saga;
- `should_resubmit(outcome)`: a query answered "not found" resubmits (idempotent by payout_id);
- `cannot_submit(reason)`: a payout whose request cannot be built goes to manual review;
- `decide_on_answer(outcome, …)`: what a provider answer leads to — settle, release, manual
  review, or a requery after a bounded backoff;
- `completion_command(…)`: the command, input and idempotency key that record a completion;
- `decide_on_completion(…)`: what the command bus's answer to a completion leads to — done,
  a gated wait, a bounded retry, or manual review.

DESIGN rule 6 is asserted here, where it is decided: only a definitive FAILED becomes a release;
PENDING and UNKNOWN (timeouts, 5xx, transport errors, unparsable answers) are requeried and,
when the budget is spent, go to manual review. A completion that cannot be recorded escalates
to manual review, never to a release.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from walletflow.providers.http_rail import REASON_NOT_FOUND
from walletflow.providers.port import OutcomeStatus, ProviderOutcome
from walletflow.service.key_namespaces import SAGA_KEY_PREFIX
from walletflow.workers.config import SagaConfig

MAX_COMPLETION_ATTEMPTS = 10
"""Failed attempts to record a completion (other than flag gating) before escalating."""
MAX_REASON_CHARS = 500
"""Bound of a completion reason (the `reason` field of releaseHold / markPayoutManualReview)."""
MAX_BACKOFF_EXPONENT = 32
DEFAULT_COMPLETION_REASON = "payout saga"


class SagaState(StrEnum):
    PENDING_SUBMIT = "pending_submit"
    SUBMITTED = "submitted"
    REQUERYING = "requerying"
    COMPLETING = "completing"
    DONE = "done"
    MANUAL_REVIEW = "manual_review"


FINAL_SAGA_STATES = frozenset({SagaState.DONE, SagaState.MANUAL_REVIEW})


class Completion(StrEnum):
    SETTLE = "settle"
    RELEASE = "release"
    MANUAL_REVIEW = "manual_review"


COMPLETION_COMMANDS = {
    Completion.SETTLE: "settleHold",
    Completion.RELEASE: "releaseHold",
    Completion.MANUAL_REVIEW: "markPayoutManualReview",
}
FINISHED_HOLD_STATES = frozenset({"settled", "released"})


def requery_delay_s(config: SagaConfig, requeries_done: int) -> float:
    """Delay before the next requery: base, 2·base, 4·base, … capped."""
    assert requeries_done >= 0
    exponent = min(requeries_done, MAX_BACKOFF_EXPONENT)
    delay_s = float(min(config.backoff_cap_s, config.backoff_base_s * 2**exponent))
    assert config.backoff_base_s <= delay_s <= config.backoff_cap_s
    return delay_s


# --- which step ----------------------------------------------------------------------------------
class Step(StrEnum):
    SUBMIT = "submit"
    REQUERY = "requery"
    COMPLETE = "complete"


@dataclass(frozen=True, slots=True)
class Finish:
    """Record `state` (a final one) with `last_error`, and stop."""

    state: SagaState
    last_error: str | None

    def __post_init__(self) -> None:
        assert self.state in FINAL_SAGA_STATES, self.state


def next_step(saga_state: SagaState, hold_state: str | None) -> Step | Finish:
    """What one step of a claimed saga does, given its hold's state (None: no hold row)."""
    if hold_state is None:
        return Finish(SagaState.DONE, "hold not found")
    if saga_state is SagaState.COMPLETING:
        # Straight to the bus: a replay of our own committed completion returns its stored
        # result; a hold finished by someone else answers ILLEGAL_STATE_TRANSITION.
        return Step.COMPLETE
    if hold_state in FINISHED_HOLD_STATES:
        return Finish(SagaState.DONE, f"hold already {hold_state}")
    if saga_state in (SagaState.PENDING_SUBMIT, SagaState.SUBMITTED):
        if hold_state != "reserved":
            return Finish(SagaState.DONE, f"hold {hold_state} before submit")
        return Step.SUBMIT
    if saga_state is SagaState.REQUERYING:
        return Step.REQUERY
    raise AssertionError(f"saga claimed in final state {saga_state}")


def should_resubmit(outcome: ProviderOutcome) -> bool:
    """A query that finds no payout: the first submit may never have arrived, so submit again
    (safe: the payout_id is the provider's idempotency key)."""
    return outcome.status is OutcomeStatus.UNKNOWN and outcome.reason == REASON_NOT_FOUND


# --- a provider's answer -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EnterCompletion:
    """Move to `completing` with this target; `reason` goes to the command (release, review)."""

    completion: Completion
    reason: str | None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class RequeryAfter:
    """Record the answer and query the provider again after `delay_s`."""

    attempts: int
    delay_s: float


def decide_on_answer(
    outcome: ProviderOutcome, *, provider: str, requeries_done: int, config: SagaConfig
) -> EnterCompletion | RequeryAfter:
    """What a provider's answer leads to, `requeries_done` requeries into the saga (the submit's
    answer is 0). Final answers complete; anything else is requeried until `requery_max`."""
    assert requeries_done >= 0
    decision: EnterCompletion | RequeryAfter
    if outcome.status is OutcomeStatus.SUCCEEDED:
        decision = EnterCompletion(Completion.SETTLE, None, outcome.provider_reference)
    elif outcome.status is OutcomeStatus.FAILED:
        reason = f"provider {provider} refused the payout: {outcome.reason}"
        decision = EnterCompletion(Completion.RELEASE, reason)
    elif requeries_done >= config.requery_max:
        reason = (
            f"no definitive answer from {provider} after {requeries_done} requeries"
            f" (last: {outcome.status.value}, {outcome.reason})"
        )
        decision = EnterCompletion(Completion.MANUAL_REVIEW, reason)
    else:
        decision = RequeryAfter(requeries_done, requery_delay_s(config, requeries_done))
    # DESIGN rule 6: an ambiguous outcome never becomes a release; only a definitive FAILED does.
    is_release = isinstance(decision, EnterCompletion) and decision.completion is Completion.RELEASE
    assert is_release == (outcome.status is OutcomeStatus.FAILED), (outcome, decision)
    assert not isinstance(decision, RequeryAfter) or not outcome.status.is_final
    return decision


def cannot_submit(reason: str) -> EnterCompletion:
    """A payout whose request cannot even be built (its hold fails `PayoutRequest`'s checks):
    nothing was sent, and nothing is guessed — a person looks at it."""
    return EnterCompletion(Completion.MANUAL_REVIEW, f"cannot submit: {reason}")


# --- recording a completion ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CompletionCommand:
    name: str
    raw_input: dict[str, Any]
    idempotency_key: str


def completion_command(
    payout_id: str,
    completion: Completion,
    *,
    provider_reference: str | None,
    completion_reason: object,
) -> CompletionCommand:
    """The bus call that records `completion`. The key is deterministic, so a worker that
    crashed after the commit replays the stored result instead of completing twice."""
    raw_input: dict[str, Any] = {"payout_id": payout_id}
    if completion is Completion.SETTLE:
        if provider_reference:
            raw_input["provider_reference"] = provider_reference
    else:
        reason = completion_reason or DEFAULT_COMPLETION_REASON
        raw_input["reason"] = str(reason)[:MAX_REASON_CHARS]
    return CompletionCommand(
        COMPLETION_COMMANDS[completion],
        raw_input,
        f"{SAGA_KEY_PREFIX}{payout_id}:{completion.value}",
    )


class BusAnswer(StrEnum):
    RECORDED = "recorded"
    """The command committed (or replayed its stored result)."""
    GATED = "gated"
    """FLAG_DENIED: completion gating holds the completion (a hard freeze, not a failure)."""
    HOLD_FINISHED = "hold_finished"
    """ILLEGAL_STATE_TRANSITION: someone else (a webhook, an operator) finished the hold."""
    REFUSED = "refused"
    """Any other typed error."""


@dataclass(frozen=True, slots=True)
class WaitGated:
    """Keep the state and attempts; try the completion again after `delay_s`."""

    delay_s: float
    last_error: str | None


@dataclass(frozen=True, slots=True)
class RetryCompletion:
    """Count the failed attempt and try again after `delay_s`."""

    attempts: int
    delay_s: float
    last_error: str


def decide_on_completion(
    completion: Completion,
    answer: BusAnswer,
    *,
    attempts: int,
    error: str | None,
    config: SagaConfig,
) -> Finish | WaitGated | RetryCompletion | EnterCompletion:
    """What the bus's answer to recording `completion` leads to, after `attempts` earlier failed
    attempts. A completion that keeps failing goes to a person; it never turns into another
    money movement."""
    assert attempts >= 0
    if answer is BusAnswer.RECORDED:
        final = (
            SagaState.MANUAL_REVIEW if completion is Completion.MANUAL_REVIEW else SagaState.DONE
        )
        return Finish(final, None)
    if answer is BusAnswer.GATED:
        return WaitGated(config.gated_retry_s, error)
    if answer is BusAnswer.HOLD_FINISHED:
        return Finish(SagaState.DONE, error)
    assert error is not None, "a refused completion carries its error"
    failed = attempts + 1
    if failed < MAX_COMPLETION_ATTEMPTS:
        return RetryCompletion(failed, requery_delay_s(config, failed - 1), error)
    if completion is not Completion.MANUAL_REVIEW:
        # Never guess: a completion that cannot be recorded goes to a person.
        reason = f"could not record {completion}: {error}"
        return EnterCompletion(Completion.MANUAL_REVIEW, reason[:MAX_REASON_CHARS])
    return Finish(SagaState.MANUAL_REVIEW, error)

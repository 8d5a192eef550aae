"""The payout saga's rules, over their whole input space: every provider answer, attempt count
and bound. DESIGN rule 6 first: an ambiguous outcome never becomes a release."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletflow.domain.holds import HoldState
from walletflow.providers.http_rail import REASON_NOT_FOUND, REASON_TIMEOUT
from walletflow.providers.port import OutcomeStatus, ProviderOutcome
from walletflow.workers.config import SagaConfig
from walletflow.workers.saga_rules import (
    MAX_BACKOFF_EXPONENT,
    MAX_COMPLETION_ATTEMPTS,
    MAX_REASON_CHARS,
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
    requery_delay_s,
    should_resubmit,
)

AMBIGUOUS = (OutcomeStatus.PENDING, OutcomeStatus.UNKNOWN)
PROVIDER = "sandbox"


@st.composite
def saga_configs(draw: st.DrawFn, max_requeries: int = 1000) -> SagaConfig:
    base_s = draw(st.floats(min_value=0.001, max_value=3600.0))
    cap_s = draw(st.floats(min_value=base_s, max_value=86_400.0))
    return SagaConfig(
        requery_max=draw(st.integers(0, max_requeries)),
        backoff_base_s=base_s,
        backoff_cap_s=cap_s,
        gated_retry_s=draw(st.floats(min_value=0.01, max_value=86_400.0)),
    )


reasons = st.one_of(
    st.none(),
    st.sampled_from([REASON_NOT_FOUND, REASON_TIMEOUT, "PROVIDER_5XX: HTTP 503"]),
    st.text(max_size=40),
)
references = st.one_of(st.none(), st.text(min_size=1, max_size=24))


@st.composite
def outcomes(
    draw: st.DrawFn, statuses: tuple[OutcomeStatus, ...] = tuple(OutcomeStatus)
) -> ProviderOutcome:
    status = draw(st.sampled_from(statuses))
    reason = draw(reasons)
    if status is OutcomeStatus.FAILED and not reason:
        reason = "declined"
    return ProviderOutcome(status, draw(references), reason)


# --- backoff -------------------------------------------------------------------------------------
@given(config=saga_configs(), requeries_done=st.integers(0, 10_000))
def test_requery_backoff_stays_between_base_and_cap(
    config: SagaConfig, requeries_done: int
) -> None:
    assert config.backoff_base_s <= requery_delay_s(config, requeries_done) <= config.backoff_cap_s


@given(config=saga_configs(), requeries_done=st.integers(0, 10_000))
def test_requery_backoff_never_shrinks_as_requeries_add_up(
    config: SagaConfig, requeries_done: int
) -> None:
    assert requery_delay_s(config, requeries_done) <= requery_delay_s(config, requeries_done + 1)


@given(config=saga_configs(), requeries_done=st.integers(0, MAX_BACKOFF_EXPONENT - 1))
def test_requery_backoff_doubles_until_it_reaches_the_cap(
    config: SagaConfig, requeries_done: int
) -> None:
    delay_s = requery_delay_s(config, requeries_done)
    assert requery_delay_s(config, requeries_done + 1) == min(config.backoff_cap_s, 2 * delay_s)


@given(config=saga_configs())
def test_requery_backoff_starts_at_the_base_and_ends_at_the_cap(config: SagaConfig) -> None:
    assert requery_delay_s(config, 0) == config.backoff_base_s
    # base ≥ 0.001 s and cap ≤ 86 400 s: 2^27 · base passes any cap.
    assert requery_delay_s(config, 27) == config.backoff_cap_s


def test_requery_backoff_refuses_a_negative_count() -> None:
    with pytest.raises(AssertionError):
        requery_delay_s(SagaConfig(), -1)


# --- a provider's answer -------------------------------------------------------------------------
@settings(max_examples=500)
@given(outcome=outcomes(AMBIGUOUS), requeries_done=st.integers(0, 2_000), config=saga_configs())
def test_an_ambiguous_answer_never_becomes_a_release(
    outcome: ProviderOutcome, requeries_done: int, config: SagaConfig
) -> None:
    decision = decide_on_answer(
        outcome, provider=PROVIDER, requeries_done=requeries_done, config=config
    )
    if isinstance(decision, EnterCompletion):
        assert decision.completion is Completion.MANUAL_REVIEW
    else:
        assert isinstance(decision, RequeryAfter)


@settings(max_examples=500)
@given(outcome=outcomes(), requeries_done=st.integers(0, 2_000), config=saga_configs())
def test_only_a_definitive_failure_releases_the_hold(
    outcome: ProviderOutcome, requeries_done: int, config: SagaConfig
) -> None:
    decision = decide_on_answer(
        outcome, provider=PROVIDER, requeries_done=requeries_done, config=config
    )
    releases = isinstance(decision, EnterCompletion) and decision.completion is Completion.RELEASE
    assert releases == (outcome.status is OutcomeStatus.FAILED)
    if releases:
        assert decision == EnterCompletion(
            Completion.RELEASE, f"provider {PROVIDER} refused the payout: {outcome.reason}"
        )


@given(outcome=outcomes((OutcomeStatus.SUCCEEDED,)), requeries_done=st.integers(0, 2_000))
def test_a_success_settles_with_the_providers_reference_whatever_the_attempt(
    outcome: ProviderOutcome, requeries_done: int
) -> None:
    decision = decide_on_answer(
        outcome, provider=PROVIDER, requeries_done=requeries_done, config=SagaConfig()
    )
    assert decision == EnterCompletion(Completion.SETTLE, None, outcome.provider_reference)


@given(outcome=outcomes(AMBIGUOUS), config=saga_configs(), extra=st.integers(0, 1_000))
def test_an_ambiguous_answer_goes_to_manual_review_once_the_requery_budget_is_spent(
    outcome: ProviderOutcome, config: SagaConfig, extra: int
) -> None:
    requeries_done = config.requery_max + extra
    decision = decide_on_answer(
        outcome, provider=PROVIDER, requeries_done=requeries_done, config=config
    )
    assert isinstance(decision, EnterCompletion)
    assert decision.completion is Completion.MANUAL_REVIEW
    assert decision.reason == (
        f"no definitive answer from {PROVIDER} after {requeries_done} requeries"
        f" (last: {outcome.status.value}, {outcome.reason})"
    )


@given(outcome=outcomes(AMBIGUOUS), config=saga_configs(), data=st.data())
def test_an_ambiguous_answer_within_the_budget_is_requeried_after_the_backoff(
    outcome: ProviderOutcome, config: SagaConfig, data: st.DataObject
) -> None:
    if config.requery_max == 0:
        return
    requeries_done = data.draw(st.integers(0, config.requery_max - 1))
    decision = decide_on_answer(
        outcome, provider=PROVIDER, requeries_done=requeries_done, config=config
    )
    assert decision == RequeryAfter(requeries_done, requery_delay_s(config, requeries_done))


def _run_saga(
    answers: list[ProviderOutcome], config: SagaConfig
) -> tuple[EnterCompletion, int, list[float]]:
    """Feed answers through the rules the way the saga does (the submit's answer counts 0, each
    requery one more); return the completion reached, the answers used and the waits between."""
    waits_s: list[float] = []
    requeries_done = 0
    for used, outcome in enumerate(answers, start=1):
        decision = decide_on_answer(
            outcome, provider=PROVIDER, requeries_done=requeries_done, config=config
        )
        if isinstance(decision, EnterCompletion):
            return decision, used, waits_s
        waits_s.append(decision.delay_s)
        requeries_done = decision.attempts + 1
    raise AssertionError(f"no completion after {len(answers)} answers")


@settings(max_examples=200)
@given(config=saga_configs(max_requeries=60), data=st.data())
def test_a_saga_that_never_hears_a_final_answer_asks_requery_max_times_then_goes_to_review(
    config: SagaConfig, data: st.DataObject
) -> None:
    answers = data.draw(
        st.lists(
            outcomes(AMBIGUOUS), min_size=config.requery_max + 1, max_size=config.requery_max + 1
        )
    )
    completion, used, waits_s = _run_saga(answers, config)
    assert completion.completion is Completion.MANUAL_REVIEW
    assert used == config.requery_max + 1  # the submit, then requery_max requeries
    assert len(waits_s) == config.requery_max
    assert all(config.backoff_base_s <= wait_s <= config.backoff_cap_s for wait_s in waits_s)
    assert waits_s == sorted(waits_s)


@settings(max_examples=200)
@given(config=saga_configs(max_requeries=30), data=st.data())
def test_a_saga_follows_the_first_final_answer_heard_within_its_budget(
    config: SagaConfig, data: st.DataObject
) -> None:
    budget = config.requery_max + 1
    answers = data.draw(st.lists(outcomes(), min_size=budget, max_size=budget))
    completion, used, _ = _run_saga(answers, config)
    first_final = next((n for n, outcome in enumerate(answers) if outcome.status.is_final), None)
    if first_final is None:
        assert completion.completion is Completion.MANUAL_REVIEW
        assert used == budget
    else:
        assert used == first_final + 1
        expected = (
            Completion.SETTLE
            if answers[first_final].status is OutcomeStatus.SUCCEEDED
            else Completion.RELEASE
        )
        assert completion.completion is expected


@given(outcome=outcomes())
def test_only_a_query_answered_not_found_resubmits(outcome: ProviderOutcome) -> None:
    assert should_resubmit(outcome) == (
        outcome.status is OutcomeStatus.UNKNOWN and outcome.reason == REASON_NOT_FOUND
    )


def test_a_payout_that_cannot_be_submitted_goes_to_manual_review() -> None:
    assert cannot_submit("INVALID_PAYOUT_REQUEST: {'asset': 'bad'}") == EnterCompletion(
        Completion.MANUAL_REVIEW, "cannot submit: INVALID_PAYOUT_REQUEST: {'asset': 'bad'}"
    )


# --- which step ----------------------------------------------------------------------------------
HOLD_STATES: tuple[str | None, ...] = (None, *(state.value for state in HoldState))
LIVE_SAGA_STATES = (
    SagaState.PENDING_SUBMIT,
    SagaState.SUBMITTED,
    SagaState.REQUERYING,
    SagaState.COMPLETING,
)

EXPECTED_STEPS: dict[tuple[SagaState, str | None], Step | Finish] = {
    **{(saga, None): Finish(SagaState.DONE, "hold not found") for saga in SagaState},
    **{(SagaState.COMPLETING, hold.value): Step.COMPLETE for hold in HoldState},
    **{
        (saga, hold): Finish(SagaState.DONE, f"hold already {hold}")
        for saga in SagaState
        if saga is not SagaState.COMPLETING
        for hold in ("settled", "released")
    },
    (SagaState.PENDING_SUBMIT, "reserved"): Step.SUBMIT,
    (SagaState.SUBMITTED, "reserved"): Step.SUBMIT,
    (SagaState.PENDING_SUBMIT, "manual_review"): Finish(
        SagaState.DONE, "hold manual_review before submit"
    ),
    (SagaState.SUBMITTED, "manual_review"): Finish(
        SagaState.DONE, "hold manual_review before submit"
    ),
    (SagaState.REQUERYING, "reserved"): Step.REQUERY,
    (SagaState.REQUERYING, "manual_review"): Step.REQUERY,
}


@pytest.mark.parametrize(
    ("saga_state", "hold_state"), sorted(EXPECTED_STEPS, key=lambda key: (key[0], str(key[1])))
)
def test_each_live_saga_and_hold_state_has_one_next_step(
    saga_state: SagaState, hold_state: str | None
) -> None:
    assert next_step(saga_state, hold_state) == EXPECTED_STEPS[(saga_state, hold_state)]


def test_the_step_table_covers_every_pair_but_a_finished_saga_with_a_hold() -> None:
    every_pair = {(saga, hold) for saga in SagaState for hold in HOLD_STATES}
    finished_with_hold = {
        (saga, hold)
        for saga in (SagaState.DONE, SagaState.MANUAL_REVIEW)
        for hold in ("reserved", "manual_review")
    }
    assert every_pair - set(EXPECTED_STEPS) == finished_with_hold


@pytest.mark.parametrize("saga_state", [SagaState.DONE, SagaState.MANUAL_REVIEW])
@pytest.mark.parametrize("hold_state", ["reserved", "manual_review"])
def test_a_saga_claimed_in_a_final_state_is_a_bug(saga_state: SagaState, hold_state: str) -> None:
    with pytest.raises(AssertionError):
        next_step(saga_state, hold_state)


@pytest.mark.parametrize("saga_state", LIVE_SAGA_STATES)
@pytest.mark.parametrize("hold_state", HOLD_STATES)
def test_a_payout_is_submitted_only_while_its_hold_is_reserved(
    saga_state: SagaState, hold_state: str | None
) -> None:
    if next_step(saga_state, hold_state) is Step.SUBMIT:
        assert hold_state == "reserved"


def test_a_finish_is_always_a_final_saga_state() -> None:
    with pytest.raises(AssertionError):
        Finish(SagaState.REQUERYING, None)


# --- recording a completion ----------------------------------------------------------------------
def test_a_settle_carries_the_providers_reference_when_there_is_one() -> None:
    with_reference = completion_command(
        "po_1", Completion.SETTLE, provider_reference="sbx_1", completion_reason="ignored"
    )
    assert with_reference.name == "settleHold"
    assert with_reference.raw_input == {"payout_id": "po_1", "provider_reference": "sbx_1"}
    assert with_reference.idempotency_key == "saga:po_1:settle"
    without = completion_command(
        "po_1", Completion.SETTLE, provider_reference=None, completion_reason=None
    )
    assert without.raw_input == {"payout_id": "po_1"}


@given(
    completion=st.sampled_from([Completion.RELEASE, Completion.MANUAL_REVIEW]),
    reason=st.one_of(st.none(), st.just(""), st.text(max_size=2 * MAX_REASON_CHARS)),
    reference=references,
)
def test_a_release_or_review_carries_a_bounded_reason_and_never_a_reference(
    completion: Completion, reason: str | None, reference: str | None
) -> None:
    command = completion_command(
        "po_1", completion, provider_reference=reference, completion_reason=reason
    )
    expected = (reason or "payout saga")[:MAX_REASON_CHARS]
    assert command.raw_input == {"payout_id": "po_1", "reason": expected}
    assert (
        command.name
        == {
            Completion.RELEASE: "releaseHold",
            Completion.MANUAL_REVIEW: "markPayoutManualReview",
        }[completion]
    )


@given(payout_id=st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_completion_keys_are_deterministic_and_distinct_per_completion(payout_id: str) -> None:
    keys = {
        completion_command(
            payout_id, completion, provider_reference=None, completion_reason=None
        ).idempotency_key
        for completion in Completion
    }
    assert keys == {f"saga:{payout_id}:{completion.value}" for completion in Completion}


completions = st.sampled_from(list(Completion))
errors = st.text(min_size=1, max_size=600)


@settings(max_examples=500)
@given(
    completion=completions,
    answer=st.sampled_from(list(BusAnswer)),
    attempts=st.integers(0, MAX_COMPLETION_ATTEMPTS + 5),
    error=errors,
    config=saga_configs(),
)
def test_a_completion_never_turns_into_a_release(
    completion: Completion, answer: BusAnswer, attempts: int, error: str, config: SagaConfig
) -> None:
    decision = decide_on_completion(
        completion, answer, attempts=attempts, error=error, config=config
    )
    if isinstance(decision, EnterCompletion):
        assert decision.completion is Completion.MANUAL_REVIEW
        assert decision.reason is not None and len(decision.reason) <= MAX_REASON_CHARS


@given(completion=completions, config=saga_configs())
def test_a_recorded_completion_finishes_the_saga(
    completion: Completion, config: SagaConfig
) -> None:
    decision = decide_on_completion(
        completion, BusAnswer.RECORDED, attempts=0, error=None, config=config
    )
    final = SagaState.MANUAL_REVIEW if completion is Completion.MANUAL_REVIEW else SagaState.DONE
    assert decision == Finish(final, None)


@given(completion=completions, attempts=st.integers(0, 10_000), config=saga_configs())
def test_a_gated_completion_waits_however_often_it_was_refused(
    completion: Completion, attempts: int, config: SagaConfig
) -> None:
    decision = decide_on_completion(
        completion, BusAnswer.GATED, attempts=attempts, error="FLAG_DENIED: off", config=config
    )
    assert decision == WaitGated(config.gated_retry_s, "FLAG_DENIED: off")


@given(completion=completions)
def test_a_hold_finished_by_someone_else_ends_the_saga(completion: Completion) -> None:
    error = "ILLEGAL_STATE_TRANSITION: payout po_1 is settled"
    decision = decide_on_completion(
        completion, BusAnswer.HOLD_FINISHED, attempts=0, error=error, config=SagaConfig()
    )
    assert decision == Finish(SagaState.DONE, error)


@given(
    completion=completions,
    attempts=st.integers(0, MAX_COMPLETION_ATTEMPTS - 2),
    error=errors,
    config=saga_configs(),
)
def test_a_refused_completion_is_retried_after_the_bounded_backoff(
    completion: Completion, attempts: int, error: str, config: SagaConfig
) -> None:
    decision = decide_on_completion(
        completion, BusAnswer.REFUSED, attempts=attempts, error=error, config=config
    )
    assert decision == RetryCompletion(attempts + 1, requery_delay_s(config, attempts), error)
    assert decision.delay_s <= config.backoff_cap_s


@pytest.mark.parametrize("completion", list(Completion))
def test_a_completion_refused_max_times_goes_to_manual_review(completion: Completion) -> None:
    config = SagaConfig()
    attempts = 0
    for _ in range(MAX_COMPLETION_ATTEMPTS - 1):
        decision = decide_on_completion(
            completion, BusAnswer.REFUSED, attempts=attempts, error="CONFLICT: x", config=config
        )
        assert isinstance(decision, RetryCompletion)
        attempts = decision.attempts
    last = decide_on_completion(
        completion, BusAnswer.REFUSED, attempts=attempts, error="CONFLICT: x", config=config
    )
    if completion is Completion.MANUAL_REVIEW:
        assert last == Finish(SagaState.MANUAL_REVIEW, "CONFLICT: x")
    else:
        assert last == EnterCompletion(
            Completion.MANUAL_REVIEW, f"could not record {completion.value}: CONFLICT: x"
        )


def test_a_refused_completion_must_say_why() -> None:
    with pytest.raises(AssertionError):
        decide_on_completion(
            Completion.SETTLE, BusAnswer.REFUSED, attempts=0, error=None, config=SagaConfig()
        )

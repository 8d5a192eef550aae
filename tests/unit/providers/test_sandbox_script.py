"""What the sandbox rail answers for a payout, given its script: the scripted outcomes as rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from walletflow.domain.errors import ValidationError
from walletflow.providers.events import ProviderEventType
from walletflow.providers.port import PayoutRequest
from walletflow.providers.sandbox_script import (
    CALLBACK_BACKOFF_BASE_S,
    CALLBACK_BACKOFF_CAP_S,
    MAX_DELAY_S,
    MAX_HANG_S,
    MAX_PENDING_CALLBACKS,
    MAX_UNKNOWN_COUNT,
    SERVER_ERROR,
    Behaviour,
    Refusal,
    Rule,
    Script,
    callback_delay_s,
    callback_outcome,
    choose_script,
    initial_status,
    query_answer,
    reason_for,
    submit_answer,
    submit_refusal,
)

STATUSES = ("succeeded", "failed", "pending")
UNKNOWN_FIRST = (Behaviour.UNKNOWN_THEN_SUCCEED, Behaviour.UNKNOWN_THEN_FAIL)

scripts = st.builds(
    Script,
    behaviour=st.sampled_from(list(Behaviour)),
    reason=st.text(min_size=1, max_size=40),
    hang_s=st.floats(min_value=0.0, max_value=MAX_HANG_S),
    then=st.sampled_from(STATUSES),
    hang_queries=st.booleans(),
    unknown_count=st.integers(0, MAX_UNKNOWN_COUNT),
    unknown_as=st.sampled_from(["error_500", "pending"]),
    delay_s=st.floats(min_value=0.0, max_value=MAX_DELAY_S),
    outcome=st.sampled_from(["succeeded", "failed"]),
)
statuses = st.sampled_from(STATUSES)


def request(
    payout_id: str = "po_1", merchant_id: str = "m1", amount_minor: int = 100
) -> PayoutRequest:
    return PayoutRequest(
        payout_id=payout_id,
        merchant_id=merchant_id,
        asset="NGN/2",
        amount_minor=amount_minor,
        destination={"account_number": "0123456789"},
    )


# --- parsing ----------------------------------------------------------------------------------
@given(script=scripts)
def test_a_script_survives_its_own_json(script: Script) -> None:
    assert Script.parse(script.to_json()) == script


def test_a_script_names_only_what_it_sets_and_defaults_the_rest() -> None:
    assert Script.parse({"behaviour": "fail"}) == Script(behaviour=Behaviour.FAIL)


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"behaviour": "explode"}, "behaviour"),
        ({}, "behaviour"),
        ({"behaviour": "fail", "reason": ""}, "reason"),
        ({"behaviour": "fail", "reason": "x" * 513}, "reason"),
        ({"behaviour": "hang", "hang_s": MAX_HANG_S + 1}, "hang_s"),
        ({"behaviour": "hang", "hang_s": True}, "hang_s"),
        ({"behaviour": "callback_later", "delay_s": -1}, "delay_s"),
        ({"behaviour": "unknown_then_fail", "unknown_count": 1.0}, "unknown_count"),
        (
            {"behaviour": "unknown_then_fail", "unknown_count": MAX_UNKNOWN_COUNT + 1},
            "unknown_count",
        ),
        ({"behaviour": "unknown_then_fail", "unknown_as": "timeout"}, "unknown_as"),
        ({"behaviour": "hang", "then": "maybe"}, "then"),
        ({"behaviour": "callback_later", "outcome": "pending"}, "outcome"),
        ({"behaviour": "hang", "hang_queries": "yes"}, "hang_queries"),
        ({"behaviour": "succeed", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_script_is_refused_naming_the_field(body: dict[str, Any], bad_field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Script.parse(body)
    assert bad_field in refused.value.field_errors


def test_a_script_must_be_an_object() -> None:
    with pytest.raises(ValidationError):
        Script.parse(["succeed"])


def test_a_rule_parses_its_matchers_and_its_script() -> None:
    rule = Rule.parse({"merchant_id": "m1", "amount_minor": 1313, "script": {"behaviour": "fail"}})
    assert rule == Rule(Script(behaviour=Behaviour.FAIL), merchant_id="m1", amount_minor=1313)
    assert Rule.parse({"script": {"behaviour": "hang"}}) == Rule(Script(behaviour=Behaviour.HANG))


@pytest.mark.parametrize(
    ("body", "bad_field"),
    [
        ({"merchant_id": "m 1", "script": {"behaviour": "fail"}}, "merchant_id"),
        ({"amount_minor": 0, "script": {"behaviour": "fail"}}, "amount_minor"),
        ({"amount_minor": True, "script": {"behaviour": "fail"}}, "amount_minor"),
        ({"amount_minor": 1}, "script.script"),
        ({"script": {"behaviour": "fail", "delay_s": "soon"}}, "script.delay_s"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(body: dict[str, Any], bad_field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Rule.parse(body)
    assert bad_field in refused.value.field_errors


# --- which script -----------------------------------------------------------------------------
OWN = Script(behaviour=Behaviour.FAIL)
BY_MERCHANT = Script(behaviour=Behaviour.HANG)
BY_AMOUNT = Script(behaviour=Behaviour.ERROR_500)
DEFAULT = Script()


@given(merchant_id=st.sampled_from(["m1", "m2"]), amount_minor=st.sampled_from([100, 1313]))
def test_a_payouts_own_script_wins_over_every_rule(merchant_id: str, amount_minor: int) -> None:
    rules = [Rule(BY_MERCHANT, merchant_id=merchant_id), Rule(BY_AMOUNT)]
    payout = request(merchant_id=merchant_id, amount_minor=amount_minor)
    assert choose_script(payout, {"po_1": OWN}, rules, DEFAULT) is OWN


@pytest.mark.parametrize(
    ("merchant_id", "amount_minor", "expected"),
    [
        ("m1", 1313, BY_MERCHANT),  # both match: the first rule wins
        ("m1", 100, BY_MERCHANT),
        ("m2", 1313, BY_AMOUNT),
        ("m2", 100, DEFAULT),
    ],
)
def test_the_first_matching_rule_wins_else_the_default(
    merchant_id: str, amount_minor: int, expected: Script
) -> None:
    rules = [Rule(BY_MERCHANT, merchant_id="m1"), Rule(BY_AMOUNT, amount_minor=1313)]
    payout = request(merchant_id=merchant_id, amount_minor=amount_minor)
    assert choose_script(payout, {"po_other": OWN}, rules, DEFAULT) is expected


@given(
    rule_merchant=st.one_of(st.none(), st.sampled_from(["m1", "m2"])),
    rule_amount=st.one_of(st.none(), st.sampled_from([100, 1313])),
    merchant_id=st.sampled_from(["m1", "m2"]),
    amount_minor=st.sampled_from([100, 1313]),
)
def test_a_rule_matches_when_every_matcher_it_sets_matches(
    rule_merchant: str | None, rule_amount: int | None, merchant_id: str, amount_minor: int
) -> None:
    rule = Rule(DEFAULT, merchant_id=rule_merchant, amount_minor=rule_amount)
    expected = rule_merchant in (None, merchant_id) and rule_amount in (None, amount_minor)
    assert rule.matches(request(merchant_id=merchant_id, amount_minor=amount_minor)) == expected


# --- submit -----------------------------------------------------------------------------------
@given(script=scripts, pending_callbacks=st.integers(0, 2 * MAX_PENDING_CALLBACKS))
def test_only_reject_and_a_full_callback_queue_refuse_a_submit(
    script: Script, pending_callbacks: int
) -> None:
    refusal = submit_refusal(script, pending_callbacks=pending_callbacks)
    if script.behaviour is Behaviour.REJECT:
        assert refusal == Refusal(422, "INVALID_DESTINATION", script.reason)
    elif script.behaviour is Behaviour.CALLBACK_LATER and pending_callbacks >= (
        MAX_PENDING_CALLBACKS
    ):
        assert refusal == Refusal(503, "UNAVAILABLE", "too many pending callbacks")
    else:
        assert refusal is None


@pytest.mark.parametrize(
    ("behaviour", "then", "expected"),
    [
        (Behaviour.SUCCEED, "pending", "succeeded"),
        (Behaviour.FAIL, "pending", "failed"),
        (Behaviour.HANG, "failed", "failed"),
        (Behaviour.HANG, "pending", "pending"),
        (Behaviour.ERROR_500, "succeeded", "pending"),
        (Behaviour.UNKNOWN_THEN_SUCCEED, "succeeded", "pending"),
        (Behaviour.UNKNOWN_THEN_FAIL, "succeeded", "pending"),
        (Behaviour.CALLBACK_LATER, "succeeded", "pending"),
    ],
)
def test_a_new_payout_is_recorded_with_its_scripts_initial_status(
    behaviour: Behaviour, then: str, expected: str
) -> None:
    assert initial_status(Script(behaviour=behaviour, then=then)) == expected


@given(script=scripts, status=statuses)
def test_only_a_failed_payout_carries_the_scripts_reason(script: Script, status: str) -> None:
    assert reason_for(status, script) == (script.reason if status == "failed" else None)


@settings(max_examples=300)
@given(script=scripts, status=statuses, first=st.booleans())
def test_a_submit_answers_201_then_200_when_final_202_when_pending_500_when_scripted(
    script: Script, status: str, first: bool
) -> None:
    answer = submit_answer(script, status, first=first)
    scripted_error = script.behaviour is Behaviour.ERROR_500 or (
        script.behaviour in UNKNOWN_FIRST
        and status == "pending"
        and script.unknown_as == "error_500"
    )
    if scripted_error:
        assert answer.status_code == SERVER_ERROR and answer.is_server_error
    elif status == "pending":
        assert answer.status_code == 202
    else:
        assert answer.status_code == (201 if first else 200)
    assert answer.becomes is None  # a submit never changes what the payout is
    assert answer.shown_status is None
    assert answer.delay_s == (script.hang_s if script.behaviour is Behaviour.HANG else None)


# --- query ------------------------------------------------------------------------------------
@settings(max_examples=300)
@given(script=scripts, status=statuses, queries=st.integers(1, 2 * MAX_UNKNOWN_COUNT))
def test_unknown_first_scripts_reveal_nothing_final_before_their_count(
    script: Script, status: str, queries: int
) -> None:
    answer = query_answer(script, status, queries=queries)
    if script.behaviour not in UNKNOWN_FIRST or queries > script.unknown_count:
        return
    assert answer.becomes is None
    if script.unknown_as == "error_500":
        assert answer.is_server_error
    else:
        assert (answer.status_code, answer.shown_status) == (200, "pending")


@given(script=scripts, status=statuses, data=st.data())
def test_unknown_first_scripts_settle_a_pending_payout_after_their_count(
    script: Script, status: str, data: st.DataObject
) -> None:
    if script.behaviour not in UNKNOWN_FIRST:
        return
    queries = data.draw(st.integers(script.unknown_count + 1, script.unknown_count + 50))
    answer = query_answer(script, status, queries=queries)
    assert (answer.status_code, answer.shown_status) == (200, None)
    final = "succeeded" if script.behaviour is Behaviour.UNKNOWN_THEN_SUCCEED else "failed"
    assert answer.becomes == (final if status == "pending" else None)


@given(script=scripts, status=statuses, queries=st.integers(1, 10_000))
def test_error_500_answers_every_query_with_a_server_error(
    script: Script, status: str, queries: int
) -> None:
    error_script = Script(behaviour=Behaviour.ERROR_500, hang_s=script.hang_s)
    assert query_answer(error_script, status, queries=queries).is_server_error


@given(
    script=scripts.filter(lambda s: s.behaviour not in (*UNKNOWN_FIRST, Behaviour.ERROR_500)),
    status=statuses,
    queries=st.integers(1, 10_000),
)
def test_other_scripts_answer_a_query_with_the_recorded_status(
    script: Script, status: str, queries: int
) -> None:
    answer = query_answer(script, status, queries=queries)
    assert (answer.status_code, answer.shown_status, answer.becomes) == (200, None, None)


@given(script=scripts, status=statuses, queries=st.integers(1, 10_000))
def test_only_hang_with_hang_queries_delays_a_query(
    script: Script, status: str, queries: int
) -> None:
    answer = query_answer(script, status, queries=queries)
    hangs = script.behaviour is Behaviour.HANG and script.hang_queries
    assert answer.delay_s == (script.hang_s if hangs else None)


@pytest.mark.parametrize("behaviour", UNKNOWN_FIRST)
@pytest.mark.parametrize("unknown_as", ["error_500", "pending"])
@pytest.mark.parametrize("unknown_count", [0, 1, 3])
def test_an_unknown_first_payout_is_unknown_for_its_submit_and_count_queries_then_final(
    behaviour: Behaviour, unknown_as: str, unknown_count: int
) -> None:
    script = Script(behaviour=behaviour, unknown_as=unknown_as, unknown_count=unknown_count)
    status = initial_status(script)
    seen = [submit_answer(script, status, first=True)]
    for queries in range(1, unknown_count + 3):
        answer = query_answer(script, status, queries=queries)
        status = answer.becomes or status
        seen.append(answer)
    final = "succeeded" if behaviour is Behaviour.UNKNOWN_THEN_SUCCEED else "failed"
    unknown = seen[: unknown_count + 1]
    assert all(a.is_server_error for a in unknown) or all(
        a.status_code in (200, 202) and a.becomes is None for a in unknown
    )
    assert seen[unknown_count + 1].becomes == final
    assert status == final
    assert seen[-1] == query_answer(script, final, queries=unknown_count + 2)


# --- callbacks --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "event_type"),
    [
        ("succeeded", ProviderEventType.PAYOUT_SUCCEEDED),
        ("failed", ProviderEventType.PAYOUT_FAILED),
    ],
)
def test_a_callback_later_payout_becomes_its_outcome_and_announces_it(
    outcome: str, event_type: ProviderEventType
) -> None:
    script = Script(behaviour=Behaviour.CALLBACK_LATER, outcome=outcome)
    assert callback_outcome(script) == (outcome, event_type)


@given(attempt=st.integers(0, 10_000))
def test_callback_backoff_is_bounded_and_never_shrinks(attempt: int) -> None:
    delay_s = callback_delay_s(attempt)
    assert CALLBACK_BACKOFF_BASE_S <= delay_s <= CALLBACK_BACKOFF_CAP_S
    assert delay_s <= callback_delay_s(attempt + 1)


def test_callback_backoff_doubles_from_the_base_to_the_cap() -> None:
    assert [callback_delay_s(n) for n in range(7)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]

"""The `core_wallet_enabled` decision, exhaustively: every mode and every explicit state of up to
three scopes. An explicit false always denies; fail_closed also needs one explicit true."""

from __future__ import annotations

import itertools

import pytest

from walletflow.config import CompletionGating, FlagMode
from walletflow.domain.errors import FlagDenied
from walletflow.service.flags import check_enabled, completion_scopes

SCOPES = [("merchant", "m1"), ("currency", "NGN"), ("provider", "sandbox")]
STATES = (True, False, None)  # None: no explicit flag
CASES = [
    (mode, scopes, dict(zip(scopes, states, strict=True)))
    for mode in FlagMode
    for size in (1, 2, 3)
    for scopes in [SCOPES[:size]]
    for states in itertools.product(STATES, repeat=size)
]


def _explicit(states: dict[tuple[str, str], bool | None]) -> dict[tuple[str, str], bool]:
    return {scope: state for scope, state in states.items() if state is not None}


@pytest.mark.parametrize(("mode", "scopes", "states"), CASES)
def test_a_scope_transacts_unless_disabled_and_in_fail_closed_only_if_one_is_enabled(
    mode: FlagMode, scopes: list[tuple[str, str]], states: dict[tuple[str, str], bool | None]
) -> None:
    any_disabled = False in states.values()
    any_enabled = True in states.values()
    denied = any_disabled or (mode is FlagMode.FAIL_CLOSED and not any_enabled)
    if not denied:
        check_enabled(mode, scopes, _explicit(states))
        return
    with pytest.raises(FlagDenied):
        check_enabled(mode, scopes, _explicit(states))


@pytest.mark.parametrize("mode", list(FlagMode))
def test_the_first_disabled_scope_is_named(mode: FlagMode) -> None:
    states = {SCOPES[0]: True, SCOPES[1]: False, SCOPES[2]: False}
    with pytest.raises(FlagDenied) as denied:
        check_enabled(mode, SCOPES, states)
    assert denied.value.details == {"scopeType": "currency", "scopeValue": "NGN"}


def test_fail_closed_names_every_scope_it_found_no_enabled_flag_for() -> None:
    with pytest.raises(FlagDenied) as denied:
        check_enabled(FlagMode.FAIL_CLOSED, SCOPES, {})
    assert denied.value.details == {"scopes": [list(scope) for scope in SCOPES]}


def test_a_flag_check_needs_a_scope_of_a_known_type() -> None:
    with pytest.raises(AssertionError):
        check_enabled(FlagMode.FAIL_OPEN, [], {})
    with pytest.raises(AssertionError):
        check_enabled(FlagMode.FAIL_OPEN, [("country", "NG")], {})


def test_completions_are_checked_on_every_scope_of_the_hold_only_when_gated() -> None:
    hold = {"merchant_id": "m1", "currency": "NGN", "provider": "sandbox"}
    assert completion_scopes(CompletionGating.GATE, **hold) == SCOPES
    assert completion_scopes(CompletionGating.RECORD, **hold) == []

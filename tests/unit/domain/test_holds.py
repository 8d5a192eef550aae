"""The holds state machine, checked exhaustively over every (current, target) pair."""

from __future__ import annotations

import itertools

import pytest

from walletflow.domain.errors import IllegalStateTransition
from walletflow.domain.holds import LEGAL_TRANSITIONS, HoldState, check_transition

R, S, X, M = HoldState.RESERVED, HoldState.SETTLED, HoldState.RELEASED, HoldState.MANUAL_REVIEW
# DESIGN: reserved → settled | released | manual_review;  manual_review → settled | released.
DESIGNED = {(R, S), (R, X), (R, M), (M, S), (M, X)}
ALL_PAIRS = list(itertools.product(HoldState, HoldState))


@pytest.mark.parametrize(("current", "target"), sorted(DESIGNED))
def test_a_designed_transition_is_legal(current: HoldState, target: HoldState) -> None:
    check_transition("po_1", current, target)


@pytest.mark.parametrize(
    ("current", "target"), [pair for pair in ALL_PAIRS if pair not in DESIGNED]
)
def test_every_other_transition_is_illegal_and_says_which(
    current: HoldState, target: HoldState
) -> None:
    with pytest.raises(IllegalStateTransition) as refused:
        check_transition("po_1", current, target)
    assert refused.value.details == {
        "payoutId": "po_1",
        "state": current.value,
        "target": target.value,
    }


def test_the_transition_table_names_every_state_and_only_the_designed_moves() -> None:
    assert set(LEGAL_TRANSITIONS) == set(HoldState)
    table = {
        (current, target) for current, targets in LEGAL_TRANSITIONS.items() for target in targets
    }
    assert table == DESIGNED


@pytest.mark.parametrize("terminal", [S, X])
def test_settled_and_released_are_terminal(terminal: HoldState) -> None:
    assert LEGAL_TRANSITIONS[terminal] == frozenset()


def _reachable(start: HoldState) -> set[HoldState]:
    seen, frontier = set(), [start]
    while frontier:
        state = frontier.pop()
        for target in LEGAL_TRANSITIONS[state]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_no_path_leads_from_settled_to_released_or_back() -> None:
    assert X not in _reachable(S) and S not in _reachable(X)


def test_no_state_can_return_to_reserved_or_to_itself() -> None:
    for state in HoldState:
        assert R not in _reachable(state)
        assert state not in _reachable(state)


def test_every_state_is_reachable_from_reserved() -> None:
    assert _reachable(R) == {S, X, M}

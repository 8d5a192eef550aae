"""Payout holds: one ledger sub-account per payout and a small state machine.

reserved → settled | released | manual_review;  manual_review → settled | released.
Settled and released are terminal and mutually exclusive; the database enforces it too.
"""

from __future__ import annotations

from enum import StrEnum

from walletflow.domain.errors import IllegalStateTransition


class HoldState(StrEnum):
    RESERVED = "reserved"
    SETTLED = "settled"
    RELEASED = "released"
    MANUAL_REVIEW = "manual_review"


LEGAL_TRANSITIONS: dict[HoldState, frozenset[HoldState]] = {
    HoldState.RESERVED: frozenset({HoldState.SETTLED, HoldState.RELEASED, HoldState.MANUAL_REVIEW}),
    HoldState.MANUAL_REVIEW: frozenset({HoldState.SETTLED, HoldState.RELEASED}),
    HoldState.SETTLED: frozenset(),
    HoldState.RELEASED: frozenset(),
}


def check_transition(payout_id: str, current: HoldState, target: HoldState) -> None:
    """Raise `IllegalStateTransition` unless current → target is allowed."""
    if target not in LEGAL_TRANSITIONS[current]:
        raise IllegalStateTransition(
            f"payout {payout_id} is {current.value}; it cannot become {target.value}",
            details={"payoutId": payout_id, "state": current.value, "target": target.value},
        )

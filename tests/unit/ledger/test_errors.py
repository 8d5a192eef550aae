"""The ledger's own constraints as precise typed errors, over the shared SQLSTATE table."""

from __future__ import annotations

from tests.support.db_failures import driver_error
from walletflow.domain.errors import (
    AlreadyReverted,
    Conflict,
    InsufficientFunds,
    ReferenceConflict,
    Unavailable,
    ValidationError,
)
from walletflow.ledger.pg.errors import (
    OVERDRAFT_CHECK,
    REFERENCE_UNIQUE,
    REVERT_UNIQUE,
    map_error,
)

FAILING_ROW = "Failing row contains (fees:NGN:revenue, NGN/2, 3, 100, 250, f)."


def test_the_overdraft_check_is_insufficient_funds_naming_the_account_and_asset() -> None:
    typed = map_error(driver_error("23514", constraint=OVERDRAFT_CHECK, detail=FAILING_ROW))
    assert isinstance(typed, InsufficientFunds)
    assert typed.details == {"account": "fees:NGN:revenue", "asset": "NGN/2"}


def test_the_overdraft_check_without_a_detail_is_still_insufficient_funds() -> None:
    typed = map_error(driver_error("23514", constraint=OVERDRAFT_CHECK))
    assert isinstance(typed, InsufficientFunds) and typed.details == {}


def test_the_unique_reference_is_a_reference_conflict() -> None:
    assert isinstance(
        map_error(driver_error("23505", constraint=REFERENCE_UNIQUE)), ReferenceConflict
    )


def test_the_unique_revert_is_already_reverted() -> None:
    assert isinstance(map_error(driver_error("23505", constraint=REVERT_UNIQUE)), AlreadyReverted)


def test_a_constraint_the_ledger_does_not_own_falls_back_to_the_shared_table() -> None:
    assert isinstance(map_error(driver_error("23505", constraint="uq_other")), Conflict)
    assert map_error(driver_error("23514", constraint="ck_ledger_postings_positive")) is None
    assert isinstance(map_error(driver_error("22021")), ValidationError)
    assert isinstance(map_error(driver_error("40P01")), Unavailable)


def test_a_lost_connection_is_unavailable_even_when_it_names_a_ledger_constraint() -> None:
    error = driver_error("23514", constraint=OVERDRAFT_CHECK, connection_invalidated=True)
    assert isinstance(map_error(error), Unavailable)


def test_what_is_not_a_database_failure_is_left_alone() -> None:
    assert map_error(ValueError("a bug")) is None

"""The one SQLSTATE table: what each code means, the typed error every layer turns it into, and
that no other module keeps a table of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tests.support.db_failures import DRIVER_ERRORS, driver_error
from walletflow.db.errors import (
    SQLSTATE_CLASSES,
    SQLSTATES,
    DbFault,
    classify,
    classify_sqlstate,
    database_error,
    database_unavailable,
    is_retryable,
    pg_details,
)
from walletflow.domain.errors import (
    Conflict,
    InsufficientFunds,
    Unavailable,
    ValidationError,
)

BACKEND = Path(__file__).resolve().parents[3] / "backend" / "walletflow"
THE_TABLE = BACKEND / "db" / "errors.py"

EXPECTED = {
    "23505": DbFault.UNIQUE_VIOLATION,
    "23514": DbFault.CHECK_VIOLATION,
    "40001": DbFault.RETRY,
    "40P01": DbFault.RETRY,
    "55P03": DbFault.RETRY,
    "08000": DbFault.UNAVAILABLE,
    "08001": DbFault.UNAVAILABLE,
    "08003": DbFault.UNAVAILABLE,
    "08006": DbFault.UNAVAILABLE,
    "08P01": DbFault.UNAVAILABLE,
    "53300": DbFault.UNAVAILABLE,
    "53100": DbFault.UNAVAILABLE,
    "57014": DbFault.UNAVAILABLE,
    "57P01": DbFault.UNAVAILABLE,
    "57P02": DbFault.UNAVAILABLE,
    "57P03": DbFault.UNAVAILABLE,
    "22021": DbFault.INVALID_INPUT,
    "22003": DbFault.INVALID_INPUT,
    "22P02": DbFault.INVALID_INPUT,
    "23503": None,  # foreign_key_violation: a bug, not the client's doing
    "23502": None,  # not_null_violation
    "42P01": None,  # undefined_table
    "40002": None,  # transaction_integrity_constraint_violation: not retryable
    "XX000": None,  # internal_error
}


@pytest.mark.parametrize(("sqlstate", "fault"), sorted(EXPECTED.items()))
def test_each_code_is_classified_through_the_drivers_wrappers(
    sqlstate: str, fault: DbFault | None
) -> None:
    assert classify_sqlstate(sqlstate) is fault
    assert classify(driver_error(sqlstate)) is fault


def test_every_code_the_table_names_is_a_real_postgresql_code() -> None:
    assert set(SQLSTATES) <= set(DRIVER_ERRORS)
    classes = {code[:2] for code in DRIVER_ERRORS}
    assert set(SQLSTATE_CLASSES) <= classes


@pytest.mark.parametrize("sqlstate", sorted(DRIVER_ERRORS))
def test_every_postgresql_code_of_a_listed_class_takes_the_class_meaning(sqlstate: str) -> None:
    expected = SQLSTATES.get(sqlstate) or SQLSTATE_CLASSES.get(sqlstate[:2])
    assert classify(driver_error(sqlstate)) is expected


def test_the_details_of_a_failure_are_found_under_the_wrappers() -> None:
    error = driver_error("23514", constraint="ck_x", detail="Failing row contains (a, b, 1).")
    details = pg_details(error)
    assert (details.sqlstate, details.constraint, details.detail) == (
        "23514",
        "ck_x",
        "Failing row contains (a, b, 1).",
    )
    assert pg_details(ValueError("no database here")).sqlstate is None


@pytest.mark.parametrize(
    "error",
    [
        PoolTimeoutError("QueuePool limit reached"),
        ConnectionRefusedError(111, "connection refused"),
        OSError("no route to host"),
        TimeoutError(),
        InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_lost_or_refused_connection_is_unavailable_whatever_its_code(
    error: BaseException,
) -> None:
    assert classify(error) is DbFault.UNAVAILABLE
    assert isinstance(database_error(error), Unavailable)


def test_a_connection_invalidated_mid_statement_is_unavailable_before_its_code() -> None:
    error = driver_error("23505", constraint="uq_x", connection_invalidated=True)
    assert classify(error) is DbFault.UNAVAILABLE


def test_what_is_not_a_database_failure_is_not_classified() -> None:
    assert classify(ValueError("bug")) is None
    assert classify(DBAPIError("SELECT 1", {}, Exception("no code"))) is None
    assert database_error(ValueError("bug")) is None


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03"])
def test_an_aborted_transaction_may_be_rerun_and_is_a_retryable_unavailable(sqlstate: str) -> None:
    error = driver_error(sqlstate)
    assert is_retryable(error)
    typed = database_error(error)
    assert isinstance(typed, Unavailable) and typed.retryable


@pytest.mark.parametrize("sqlstate", ["08006", "57P01", "23505", "22021"])
def test_only_an_aborted_transaction_is_rerun_in_place(sqlstate: str) -> None:
    assert not is_retryable(driver_error(sqlstate))


def test_a_value_the_database_cannot_use_is_a_validation_error() -> None:
    typed = database_error(driver_error("22021"))
    assert isinstance(typed, ValidationError)
    assert "22021" in typed.message and not typed.retryable


def test_a_unique_violation_is_a_conflict_naming_its_constraint() -> None:
    typed = database_error(driver_error("23505", constraint="uq_payouts_payout_id"))
    assert isinstance(typed, Conflict)
    assert typed.details == {"constraint": "uq_payouts_payout_id"}


def test_an_unexpected_check_violation_stays_a_bug() -> None:
    assert database_error(driver_error("23514", constraint="ck_holds_amount")) is None


def test_a_typed_error_passes_through_unchanged() -> None:
    typed = InsufficientFunds("insufficient funds")
    assert database_error(typed) is typed
    unavailable = Unavailable("down")
    assert database_unavailable(unavailable) is unavailable


@pytest.mark.parametrize("sqlstate", ["23505", "22021", "23514", "42P01"])
def test_only_unavailability_is_reported_where_a_bug_must_stay_a_bug(sqlstate: str) -> None:
    assert database_unavailable(driver_error(sqlstate)) is None


@pytest.mark.parametrize("sqlstate", ["40P01", "08006", "53300", "57P01"])
def test_unavailability_is_reported_as_retryable(sqlstate: str) -> None:
    typed = database_unavailable(driver_error(sqlstate))
    assert isinstance(typed, Unavailable) and typed.retryable


# -- no second table ------------------------------------------------------------------------

READERS = {"sqlstate", "pgcode"}


def sqlstate_readings(source: str) -> list[str]:
    """Where a module names a SQLSTATE code or reads one (`.sqlstate`, `getattr(e, "pgcode")`,
    a name like `RETRYABLE_SQLSTATES`)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in DRIVER_ERRORS or node.value.lower() in READERS:
                found.append(f"line {node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Attribute) and node.attr.lower() in READERS:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and "sqlstate" in node.id.lower():
            found.append(f"line {node.lineno}: {node.id}")
    return found


def test_the_scan_finds_a_second_table() -> None:
    second_table = (
        'RETRYABLE_SQLSTATES = {"40001", "40P01"}\n'
        "def state(error):\n"
        '    return getattr(error.orig, "pgcode", None) or error.orig.sqlstate\n'
    )
    assert len(sqlstate_readings(second_table)) == 5


def test_no_module_but_db_errors_names_or_reads_a_sqlstate() -> None:
    offenders = {
        str(path.relative_to(BACKEND)): readings
        for path in sorted(BACKEND.rglob("*.py"))
        if path != THE_TABLE and (readings := sqlstate_readings(path.read_text()))
    }
    assert offenders == {}
    assert sqlstate_readings(THE_TABLE.read_text()), "the table itself is where codes live"

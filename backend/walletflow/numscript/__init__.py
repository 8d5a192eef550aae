"""Numscript, Formance's ledger DSL, in pure Python: parse once, run many times, no I/O.

program = compile_script(source)          # NumscriptCompileError(code, message, line, column)
program.var_decls                          # {"amount": "monetary", ...}
result = program.run(variables, balances, accounts_meta)   # NumscriptRuntimeError(code, ...)
result.postings, result.tx_metadata, result.accounts_metadata
program.needed_balances(variables)         # {(account, asset), ...} to lock/read first
"""

from __future__ import annotations

from walletflow.numscript.checker import check
from walletflow.numscript.errors import (
    BadPortionError,
    DivisionByZeroError,
    ExperimentalFeatureError,
    InsufficientFundError,
    InvalidAccountNameError,
    InvalidAllotmentInSendAllError,
    InvalidAllotmentSumError,
    InvalidAssetError,
    InvalidBalanceError,
    InvalidPostingError,
    InvalidUnboundedInSendAllError,
    InvalidVariableError,
    MetadataNotFoundError,
    MismatchedCurrencyError,
    MissingVariableError,
    NegativeAmountError,
    NegativeBalanceError,
    NumscriptCompileError,
    NumscriptError,
    NumscriptRuntimeError,
)
from walletflow.numscript.interpreter import ExecutionResult, Posting, Program
from walletflow.numscript.parser import parse


def check_script(source: str) -> list[NumscriptCompileError]:
    """Every compile error of a script (empty when it compiles), in source order."""
    try:
        program = parse(source)
    except NumscriptCompileError as exc:
        return [exc]
    errors = check(program).errors
    return sorted(errors, key=lambda e: (e.line, e.column))


def compile_script(source: str) -> Program:
    """Parse and check a script; raise the first NumscriptCompileError found."""
    parsed = parse(source)
    checked = check(parsed)
    if checked.errors:
        raise min(checked.errors, key=lambda e: (e.line, e.column))
    return Program(source, parsed, checked)


__all__ = [
    "BadPortionError",
    "DivisionByZeroError",
    "ExecutionResult",
    "ExperimentalFeatureError",
    "InsufficientFundError",
    "InvalidAccountNameError",
    "InvalidAllotmentInSendAllError",
    "InvalidAllotmentSumError",
    "InvalidAssetError",
    "InvalidBalanceError",
    "InvalidPostingError",
    "InvalidUnboundedInSendAllError",
    "InvalidVariableError",
    "MetadataNotFoundError",
    "MismatchedCurrencyError",
    "MissingVariableError",
    "NegativeAmountError",
    "NegativeBalanceError",
    "NumscriptCompileError",
    "NumscriptError",
    "NumscriptRuntimeError",
    "Posting",
    "Program",
    "check_script",
    "compile_script",
]

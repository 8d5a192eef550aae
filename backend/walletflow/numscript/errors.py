"""Numscript errors: compile errors carry a position, runtime errors a stable code."""

from __future__ import annotations


class NumscriptError(Exception):
    """Base of every Numscript error; `code` is stable and travels unchanged to API clients."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class NumscriptCompileError(NumscriptError):
    """A script that cannot run: syntax, unknown variable, type mismatch, bad portion..."""

    def __init__(self, code: str, message: str, line: int, column: int) -> None:
        super().__init__(code, message)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class NumscriptRuntimeError(NumscriptError):
    """A well-formed script that failed against these variables, balances or metadata."""


class InsufficientFundError(NumscriptRuntimeError):
    def __init__(self, asset: str, needed: int, available: int) -> None:
        super().__init__(
            "INSUFFICIENT_FUND",
            f"Not enough funds. Needed [{asset} {needed}] (only [{asset} {available}] available)",
        )
        self.asset = asset
        self.needed = needed
        self.available = available


class NegativeAmountError(NumscriptRuntimeError):
    def __init__(self, amount: int) -> None:
        super().__init__("NEGATIVE_AMOUNT", f"Cannot send negative amount: {amount}")
        self.amount = amount


class MissingVariableError(NumscriptRuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__("MISSING_VARIABLE", f"Variable is missing: ${name}")
        self.name = name


class InvalidVariableError(NumscriptRuntimeError):
    """A variable value that does not parse as its declared type."""

    def __init__(self, name: str, type_name: str, raw: object, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(
            "INVALID_VARIABLE",
            f"Invalid value for ${name}: expected {type_name}, got {raw!r}{detail}",
        )
        self.name = name


class BadPortionError(NumscriptRuntimeError):
    def __init__(self, source: str, reason: str) -> None:
        super().__init__("BAD_PORTION", f"Bad portion {source!r}: {reason}")


class InvalidAccountNameError(NumscriptRuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__("INVALID_ACCOUNT_NAME", f"Invalid account name: @{name}")


class InvalidAssetError(NumscriptRuntimeError):
    def __init__(self, name: str) -> None:
        super().__init__("INVALID_ASSET", f"Invalid asset name: {name!r}")


class MetadataNotFoundError(NumscriptRuntimeError):
    def __init__(self, account: str, key: str) -> None:
        super().__init__(
            "METADATA_NOT_FOUND",
            f"account '@{account}' doesn't have metadata associated to the '{key}' key",
        )


class MismatchedCurrencyError(NumscriptRuntimeError):
    def __init__(self, expected: str, got: str) -> None:
        super().__init__(
            "MISMATCHED_CURRENCY",
            f"Mismatched currency (expected '{expected}', got '{got}' instead)",
        )


class DivisionByZeroError(NumscriptRuntimeError):
    def __init__(self, numerator: int) -> None:
        super().__init__("DIVISION_BY_ZERO", f"cannot divide by zero (in {numerator}/0)")


class InvalidAllotmentSumError(NumscriptRuntimeError):
    def __init__(self, total: str) -> None:
        super().__init__(
            "INVALID_ALLOTMENT_SUM",
            f"Invalid allotment: portions sum should be 1 (got {total} instead)",
        )


class NegativeBalanceError(NumscriptRuntimeError):
    def __init__(self, account: str) -> None:
        super().__init__(
            "NEGATIVE_BALANCE", f"Cannot fetch negative balance from account @{account}"
        )


class InvalidUnboundedInSendAllError(NumscriptRuntimeError):
    def __init__(self, account: str) -> None:
        super().__init__(
            "INVALID_UNBOUNDED_IN_SEND_ALL",
            f"cannot take all balance from an unbounded source (@{account})",
        )


class InvalidAllotmentInSendAllError(NumscriptRuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "INVALID_ALLOTMENT_IN_SEND_ALL", "cannot take all balance of an allotment source"
        )


class ExperimentalFeatureError(NumscriptRuntimeError):
    def __init__(self, flag: str) -> None:
        super().__init__(
            "EXPERIMENTAL_FEATURE",
            f"this feature is experimental. You need the '{flag}' feature flag to enable it",
        )
        self.flag = flag


class InvalidBalanceError(NumscriptRuntimeError):
    def __init__(self, account: str, asset: str, raw: object) -> None:
        super().__init__(
            "INVALID_BALANCE",
            f"Balance of @{account} in {asset} must be an integer, got {raw!r}",
        )


class InvalidPostingError(NumscriptRuntimeError):
    def __init__(self, reason: str) -> None:
        super().__init__("INVALID_POSTING", f"Invalid posting: {reason}")

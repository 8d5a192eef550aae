"""Runtime values: parsing Formance's string forms and formatting them back.

Values are plain Python objects, typed statically by the checker:
monetary -> (asset, amount) tuple, number -> int, portion -> Fraction,
account / asset / string -> str. No floats anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from walletflow.numscript.errors import (
    BadPortionError,
    InvalidAccountNameError,
    InvalidAssetError,
    InvalidVariableError,
    NumscriptRuntimeError,
)

Monetary = tuple[str, int]

ACCOUNT_RE = re.compile(r"^[a-zA-Z0-9_-]+(:[a-zA-Z0-9_-]+)*\Z")
# Formance's ledger asset rule (pkg/assets): the one postings are checked against.
ASSET_RE = re.compile(r"^[A-Z][A-Z0-9]{0,16}(_[A-Z]{1,16})?(/\d{1,6})?\Z")
_INT_RE = re.compile(r"^[+-]?[0-9]+\Z")
_PERCENT_RE = re.compile(r"^([0-9]+)(?:[.]([0-9]+))?%\Z")
_FRACTION_RE = re.compile(r"^([0-9]+)\s?/\s?([0-9]+)\Z")

_CACHE_LIMIT = 4096
_valid_accounts: dict[str, bool] = {}
_valid_assets: dict[str, bool] = {}


def check_account(name: str) -> str:
    """Validate an account address; results are memoised (bounded) to keep runs regex-free."""
    ok = _valid_accounts.get(name)
    if ok is None:
        ok = ACCOUNT_RE.match(name) is not None
        if len(_valid_accounts) >= _CACHE_LIMIT:
            _valid_accounts.clear()
        _valid_accounts[name] = ok
    if not ok:
        raise InvalidAccountNameError(name)
    return name


def is_valid_asset(name: str) -> bool:
    ok = _valid_assets.get(name)
    if ok is None:
        ok = ASSET_RE.match(name) is not None
        if len(_valid_assets) >= _CACHE_LIMIT:
            _valid_assets.clear()
        _valid_assets[name] = ok
    return ok


def check_asset(name: str) -> str:
    if not is_valid_asset(name):
        raise InvalidAssetError(name)
    return name


def parse_portion(text: str) -> Fraction:
    """Formance portion syntax: `15%`, `12.5%`, `1/3` (`1 / 3`); between 0 and 1 inclusive."""
    match = _PERCENT_RE.match(text)
    if match is not None:
        value = Fraction(f"{match.group(1)}.{match.group(2) or '0'}") / 100
    else:
        match = _FRACTION_RE.match(text)
        if match is None:
            raise BadPortionError(text, "invalid format")
        if int(match.group(2)) == 0:
            raise BadPortionError(text, "invalid fractional format")
        value = Fraction(int(match.group(1)), int(match.group(2)))
    if value < 0 or value > 1:
        raise BadPortionError(text, "portion must be between 0% and 100% inclusive")
    return value


def _parse_int(text: str) -> int:
    if _INT_RE.match(text) is None:
        raise ValueError(text)
    return int(text)


def _parse_monetary(text: str) -> Monetary:
    parts = text.split(" ")
    if len(parts) != 2:
        raise ValueError("expected 'ASSET AMOUNT'")
    return (check_asset(parts[0]), _parse_int(parts[1]))


_PARSERS: dict[str, Callable[[str], Any]] = {
    "monetary": _parse_monetary,
    "account": check_account,
    "portion": parse_portion,
    "number": _parse_int,
    "asset": check_asset,
    "string": str,
}

_parsed: dict[tuple[str, str], Any] = {}


def parse_value(name: str, type_name: str, raw: object) -> Any:
    """Parse a variable given in Formance string form, e.g. "NGN/2 10000", "15%", "users:1"."""
    if not isinstance(raw, str):
        raise InvalidVariableError(name, type_name, raw, "values are given as strings")
    key = (type_name, raw)
    try:
        return _parsed[key]
    except KeyError:
        pass
    try:
        value = _PARSERS[type_name](raw)
    except NumscriptRuntimeError as exc:
        if exc.code == "BAD_PORTION":
            raise
        raise InvalidVariableError(name, type_name, raw, exc.message) from None
    except ValueError as exc:
        raise InvalidVariableError(name, type_name, raw, str(exc)) from None
    if len(_parsed) >= _CACHE_LIMIT:
        _parsed.clear()
    _parsed[key] = value
    return value


def format_value(type_name: str, value: Any) -> str:
    """Formance's String() of a value, as it appears in metadata."""
    if type_name == "monetary":
        return f"{value[0]} {value[1]}"
    if type_name == "portion":
        return f"{value.numerator}/{value.denominator}"
    return str(value)

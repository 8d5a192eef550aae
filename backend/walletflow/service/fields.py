"""Field declarations for command inputs, and their validation at the boundary.

A registry entry lists its fields; the API, the dashboard form and the CLI are generated from
these declarations, and `parse_input` turns raw input (JSON-ish values) into the typed values
a command dataclass takes — or one `ValidationError` listing every bad field by path.
Amounts arrive as decimal strings in major units ("1500.25") or as integers of minor units,
and leave as `int` minor units of the command's currency; a float is always refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from walletflow import money
from walletflow.domain.accounts import SEGMENT_RE
from walletflow.domain.errors import (
    FractionalMinorUnit,
    NegativeAmount,
    UnknownCurrency,
    ValidationError,
    WalletflowError,
    WrongScale,
)

MAX_TEXT_LENGTH = 500
MAX_JSON_BYTES = 4096
MAX_LIST_ITEMS = 200
# A business bound on any one amount (10^18 minor units): fits BIGINT columns everywhere.
MAX_AMOUNT_MINOR = 10**18
EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+\Z")


# The specific error raised when the first bad field failed for one of these reasons.
_SPECIFIC_ERRORS: dict[str, type[ValidationError]] = {
    "UNKNOWN_CURRENCY": UnknownCurrency,
    "WRONG_SCALE": WrongScale,
    "FRACTIONAL_MINOR_UNIT": FractionalMinorUnit,
    "NEGATIVE_AMOUNT": NegativeAmount,
}


class FieldKind(StrEnum):
    ID = "id"  # an address segment: [a-zA-Z0-9_-]{1,64}
    CURRENCY = "currency"  # an ISO-4217 / stablecoin code from the scale table
    AMOUNT = "amount"  # money in the currency named by `currency_field`
    TEXT = "text"  # bounded free text
    CHOICE = "choice"  # one of `choices`
    DATETIME = "datetime"  # ISO-8601 with a timezone
    BOOLEAN = "boolean"
    INTEGER = "integer"  # a positive integer (ids)
    JSON = "json"  # a small JSON object
    EMAILS = "emails"  # a list of email addresses


@dataclass(frozen=True)
class FieldSpec:
    name: str
    """snake_case; AMOUNT fields land in the command as `<name>_minor`."""
    kind: FieldKind
    label: str
    required: bool = True
    default: Any = None
    currency_field: str = "currency"
    allow_zero: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def command_attribute(self) -> str:
        return f"{self.name}_minor" if self.kind is FieldKind.AMOUNT else self.name


def parse_input(fields: tuple[FieldSpec, ...], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `raw` against `fields`; return {command_attribute: typed value}."""
    if not isinstance(raw, Mapping):
        raise ValidationError("input must be an object", field_errors={"input": "not an object"})
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    known = {spec.name for spec in fields}
    for name in raw:
        if name not in known:
            errors[str(name)] = "unknown field"
    values: dict[str, Any] = {}
    # Currencies first: amounts are parsed in their currency's scale.
    ordered = sorted(fields, key=lambda spec: spec.kind is FieldKind.AMOUNT)
    for spec in ordered:
        value = raw.get(spec.name)
        if value is None or value == "":
            if spec.required and spec.default is None:
                errors[spec.name] = "required"
            else:
                values[spec.command_attribute] = spec.default
            continue
        try:
            values[spec.command_attribute] = _parse_one(spec, value, values)
        except _FieldProblem as problem:
            errors[spec.name] = problem.reason
            codes[spec.name] = problem.reason.split(":", 1)[0]
        except WalletflowError as error:
            errors[spec.name] = f"{error.code}: {error.message}"
            codes[spec.name] = error.code
    if errors:
        first = next(iter(errors))
        error_type = _SPECIFIC_ERRORS.get(codes.get(first, ""), ValidationError)
        raise error_type(f"invalid input: {first}: {errors[first]}", field_errors=errors)
    return values


class _FieldProblem(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_one(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> Any:
    if isinstance(value, float):
        # Floats cannot carry money or ids exactly; refuse them everywhere.
        raise _FieldProblem("floats are not accepted; send a decimal string or an integer")
    parser = _PARSERS[spec.kind]
    return parser(spec, value, parsed)


def _parse_id(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> str:
    if not isinstance(value, str) or not SEGMENT_RE.match(value):
        raise _FieldProblem("must be 1-64 characters of letters, digits, '_' or '-'")
    return value


def _parse_currency(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> str:
    if not isinstance(value, str) or len(value) > 20:
        raise _FieldProblem("must be a currency code such as NGN")
    code = value.strip().upper()
    # A bare code takes the table's scale; Formance's form ("NGN/2") must state it correctly.
    asset = money.Asset.parse(code) if "/" in code else money.Asset.of(code)
    return asset.code


def _parse_amount(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> int:
    currency = parsed.get(spec.currency_field)
    if currency is None:
        raise _FieldProblem(f"needs a valid {spec.currency_field}")
    if isinstance(value, bool):
        raise _FieldProblem("must be a decimal string or an integer")
    if isinstance(value, int):
        amount_minor = value
    elif isinstance(value, str):
        amount_minor = money.Money.parse(value.strip(), money.Asset.of(currency)).amount_minor
    else:
        raise _FieldProblem("must be a decimal string or an integer")
    if amount_minor < 0:
        raise _FieldProblem("NEGATIVE_AMOUNT: must not be negative")
    if amount_minor == 0 and not spec.allow_zero:
        raise _FieldProblem("must be greater than zero")
    if amount_minor > MAX_AMOUNT_MINOR:
        raise _FieldProblem(f"at most {MAX_AMOUNT_MINOR} minor units")
    return amount_minor


def _parse_text(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> str:
    if not isinstance(value, str):
        raise _FieldProblem("must be text")
    text = value.strip()
    if not text:
        raise _FieldProblem("must not be blank")
    if len(text) > MAX_TEXT_LENGTH:
        raise _FieldProblem(f"at most {MAX_TEXT_LENGTH} characters")
    if any(ord(ch) < 32 for ch in text):
        raise _FieldProblem("control characters are not allowed")
    return text


def _parse_choice(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> str:
    if not isinstance(value, str) or value.lower() not in spec.choices:
        raise _FieldProblem(f"must be one of {', '.join(spec.choices)}")
    return value.lower()


def _parse_datetime(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _FieldProblem("must be an ISO-8601 date-time") from None
    else:
        raise _FieldProblem("must be an ISO-8601 date-time")
    if moment.tzinfo is None:
        raise _FieldProblem("must include a timezone (e.g. Z or +01:00)")
    return moment


def _parse_boolean(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> bool:
    if not isinstance(value, bool):
        raise _FieldProblem("must be true or false")
    return value


def _parse_integer(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _FieldProblem("must be a positive integer")
    if value >= 2**63:
        raise _FieldProblem("too large")
    return value


def _parse_json(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _FieldProblem("must be a JSON object") from None
    if not isinstance(value, dict):
        raise _FieldProblem("must be a JSON object")
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise _FieldProblem(f"at most {MAX_JSON_BYTES} bytes")
    return value


def _parse_emails(spec: FieldSpec, value: Any, parsed: Mapping[str, Any]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.replace("\n", ",").split(",") if part.strip()]
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise _FieldProblem(f"must be a list of at most {MAX_LIST_ITEMS} email addresses")
    emails: list[str] = []
    for item in value:
        if not isinstance(item, str) or not EMAIL_RE.match(item.strip()):
            raise _FieldProblem(f"not an email address: {item!r}")
        emails.append(item.strip().lower())
    return tuple(sorted(set(emails)))


_PARSERS: dict[FieldKind, Callable[[FieldSpec, Any, Mapping[str, Any]], Any]] = {
    FieldKind.ID: _parse_id,
    FieldKind.CURRENCY: _parse_currency,
    FieldKind.AMOUNT: _parse_amount,
    FieldKind.TEXT: _parse_text,
    FieldKind.CHOICE: _parse_choice,
    FieldKind.DATETIME: _parse_datetime,
    FieldKind.BOOLEAN: _parse_boolean,
    FieldKind.INTEGER: _parse_integer,
    FieldKind.JSON: _parse_json,
    FieldKind.EMAILS: _parse_emails,
}

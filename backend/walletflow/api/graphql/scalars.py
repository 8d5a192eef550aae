"""Custom scalars: BigInt (exact integers, sent as strings beyond JS's 2^53), Amount (a money
input: decimal string in major units or integer of minor units), JSON, and DateTime (strawberry's,
but a time without a timezone is refused: an instant must be unambiguous, and comparing it with
an aware one would fail inside a resolver)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

MAX_SCALAR_DIGITS = 40


def _parse_big_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("BigInt must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and len(value) <= MAX_SCALAR_DIGITS:
        stripped = value.strip()
        if stripped.lstrip("-").isdigit():
            return int(stripped)
    raise ValueError("BigInt must be an integer or a string of digits")


def _parse_amount(value: Any) -> str | int:
    if isinstance(value, bool | float):
        raise ValueError("Amount must be a decimal string or an integer of minor units")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and len(value) <= MAX_SCALAR_DIGITS:
        return value
    raise ValueError("Amount must be a decimal string or an integer of minor units")


def _parse_date_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("DateTime must be an ISO-8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError("DateTime must include a timezone (e.g. Z or +01:00)")
    try:
        moment.astimezone(UTC)  # comparable with every stored time
    except OverflowError:
        raise ValueError("DateTime is out of range in UTC") from None
    return moment


BigInt = NewType("BigInt", int)
Amount = NewType("Amount", str)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="An exact integer (minor units, ids). Serialized as a string of digits.",
        serialize=str,
        parse_value=_parse_big_int,
    ),
    Amount: strawberry.scalar(
        name="Amount",
        description=(
            'Money in the command\'s currency: a decimal string in major units ("1500.25") or '
            "an integer of minor units (150025). Floats are refused."
        ),
        serialize=str,
        parse_value=_parse_amount,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="Date with time (isoformat)",
        serialize=datetime.isoformat,
        parse_value=_parse_date_time,
    ),
}

__all__ = ["JSON", "SCALAR_MAP", "Amount", "BigInt"]

"""Custom scalars: BigInt (exact integers, sent as strings beyond JS's 2^53), Amount (a money
input: decimal string in major units or integer of minor units), JSON."""

from __future__ import annotations

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
}

__all__ = ["JSON", "SCALAR_MAP", "Amount", "BigInt"]

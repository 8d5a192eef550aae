"""Keyset pages of the read side: bounded page sizes and opaque cursors (never OFFSET).

A view fetches `size + 1` rows in its keyset order; the extra row says there is more. A cursor
is the keyset values of the last row, as base64 JSON; `decode_cursor` refuses anything else
with a ValidationError on `after`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from walletflow.domain.errors import ValidationError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_CURSOR_LENGTH = 512

T = TypeVar("T")


@dataclass(frozen=True)
class Slice(Generic[T]):
    """What a paged view returns: up to `size + 1` rows (one more than asked: there is more),
    or, from a port that hands out its own cursors, up to `size` rows and `next_cursor`."""

    rows: Sequence[T]
    size: int
    next_cursor: str | None = None


def page_size(first: int | None) -> int:
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"first must be between 1 and {MAX_PAGE_SIZE}",
            field_errors={"first": f"1..{MAX_PAGE_SIZE}"},
        )
    return size


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


class Int32(int):
    """In a cursor's shape: a keyset value stored as a 32-bit integer column."""


CursorShape = tuple[type, ...]
"""The keyset a cursor holds: the type of each value in order (`int`, `Int32`, `str`,
`datetime`)."""
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1
MIN_INT32, MAX_INT32 = -(2**31), 2**31 - 1


def decode_cursor(
    cursor: str | None, shape: CursorShape, *, argument: str = "after"
) -> list[Any] | None:
    """The keyset values of a cursor this server handed out, typed as `shape` says (a
    `datetime` from its ISO form, with its offset). Anything else (not base64, not JSON,
    another list's cursor, wrong types, an integer outside 64 bits, a time without an offset)
    is a ValidationError on `argument`, never an unexpected failure further down."""
    if cursor is None:
        return None
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(shape):
            raise ValueError("not a cursor of this list")
        return [_typed(value, kind) for value, kind in zip(values, shape, strict=True)]
    except (ValueError, TypeError, OverflowError, UnicodeError, RecursionError) as error:
        raise ValidationError(
            f"malformed cursor for {argument}: pass back an endCursor of this same list",
            field_errors={argument: f"malformed cursor ({error})"[:120]},
        ) from None


def _typed(value: Any, kind: type) -> Any:
    if kind is int or kind is Int32:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("expected an integer")
        low, high = (MIN_INT32, MAX_INT32) if kind is Int32 else (MIN_INT64, MAX_INT64)
        if not low <= value <= high:
            raise ValueError("integer out of range")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise TypeError("expected a string")
        if "\x00" in value:
            raise ValueError("NUL in a string")
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise TypeError("expected a time")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("time without an offset")
        moment.astimezone(UTC)  # OverflowError outside what can be compared in UTC
        return moment
    raise AssertionError(f"no cursor decoding for {kind}")


@contextmanager
def cursor_argument(argument: str = "after") -> Iterator[None]:
    """Around a call into a port or report that decodes its own cursors (the ledger's, the
    statements'): its refusal of a cursor names the caller's argument, not its parameter."""
    try:
        yield
    except ValidationError as error:
        if set(error.field_errors) != {"cursor"}:
            raise
        raise ValidationError(
            f"{error.message} for {argument}: pass back an endCursor of this same list",
            field_errors={argument: error.field_errors["cursor"]},
        ) from None

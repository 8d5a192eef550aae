"""Keyset pages of the read side: bounded page sizes and opaque cursors (never OFFSET).

A view fetches `size + 1` rows in its keyset order; the extra row says there is more. A cursor
is the keyset values of the last row, as base64 JSON; `decode_cursor` refuses anything else
with a ValidationError on `after`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
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


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError
        return values
    except ValueError:
        raise ValidationError("malformed cursor", field_errors={"after": "malformed"}) from None

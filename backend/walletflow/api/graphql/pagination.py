"""Relay-style connections with keyset cursors (never OFFSET) and bounded page sizes."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry

from walletflow.domain.errors import ValidationError

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_CURSOR_LENGTH = 512

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


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


def connection(
    nodes: Sequence[T], size: int, key: Any, *, next_cursor: str | None = None
) -> Connection[T]:
    """Build a page from up to `size + 1` fetched nodes (the extra one says there is more).
    `key(node)` gives the keyset values of a node; `next_cursor` overrides the end cursor
    (for a port that hands out its own cursors)."""
    has_next = len(nodes) > size or next_cursor is not None
    page = list(nodes[:size])
    edges = [Edge(cursor=encode_cursor(key(node)), node=node) for node in page]
    end = next_cursor if next_cursor is not None else (edges[-1].cursor if edges else None)
    return Connection(edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end))

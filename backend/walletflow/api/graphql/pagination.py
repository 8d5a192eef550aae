"""Relay-style connections over the read side's keyset pages (`walletflow.views.pages`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from walletflow.views.pages import Slice, encode_cursor

T = TypeVar("T")
R = TypeVar("R")
N = TypeVar("N")

Counter = Callable[[], Awaitable[int | None]]
"""Counts every item the connection's filters match (run only when `totalCount` is asked)."""


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
    counter: strawberry.Private[Counter | None] = None

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="How many items match the filters, over all pages (null: this ledger "
        "backend cannot count them)."
    )
    async def total_count(self) -> int | None:
        return None if self.counter is None else await self.counter()


def connection(
    page: Slice[R],
    to_node: Callable[[R], N],
    key: Callable[[N], Sequence[Any]],
    counter: Counter | None = None,
) -> Connection[N]:
    """A connection from a view's page: `to_node(row)` is the GraphQL node of a row and
    `key(node)` its keyset values. The extra row a view fetched says there is more; a port's
    own `next_cursor` overrides the end cursor. `counter` answers `totalCount`."""
    size, next_cursor = page.size, page.next_cursor
    has_next = len(page.rows) > size or next_cursor is not None
    nodes = [to_node(row) for row in page.rows[:size]]
    edges = [Edge(cursor=encode_cursor(key(node)), node=node) for node in nodes]
    end = next_cursor if next_cursor is not None else (edges[-1].cursor if edges else None)
    return Connection(
        edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end), counter=counter
    )

"""Pages of a table through the API's cursors: where the page stands ("51-100 of 729") and the
stack of `after` cursors that leads back to the earlier pages (keyset pages have no offset)."""

from __future__ import annotations

from dataclasses import dataclass, field

from walletflow_dashboard.data import PAGE_SIZE, Paged


@dataclass
class Pager:
    total: int = 0
    start: int = 0
    end: int = 0
    has_next: bool = False
    has_prev: bool = False
    size: int = PAGE_SIZE
    summary: str = "none"
    next_cursor: str = ""
    cursors: list[str] = field(default_factory=lambda: [""])
    """The `after` of every page up to the one shown ("" for the first)."""

    @property
    def after(self) -> str:
        return self.cursors[-1]


def shown(pager: Pager, rows: int, meta: Paged) -> Pager:
    """The pager once a page of `rows` rows came back with `meta`."""
    start = (len(pager.cursors) - 1) * pager.size + (1 if rows else 0)
    end = start + rows - 1 if rows else 0
    summary = f"{start:,}-{end:,} of {meta.total:,}" if rows else f"none of {meta.total:,}"
    return Pager(
        total=meta.total,
        start=start,
        end=end,
        has_next=meta.has_next,
        has_prev=len(pager.cursors) > 1,
        size=pager.size,
        summary=summary,
        next_cursor=meta.end_cursor,
        cursors=list(pager.cursors),
    )


def forward(pager: Pager) -> Pager:
    """The next page (once: until it is shown, there is no cursor beyond it)."""
    if not pager.has_next or not pager.next_cursor:
        return pager
    moved = _with(pager, [*pager.cursors, pager.next_cursor])
    moved.has_next, moved.next_cursor = False, ""
    return moved


def back(pager: Pager) -> Pager:
    return _with(pager, pager.cursors[:-1] or [""])


def first_page(pager: Pager, size: int | None = None) -> Pager:
    moved = _with(pager, [""])
    if size is not None:
        moved.size = size
    return moved


def _with(pager: Pager, cursors: list[str]) -> Pager:
    return Pager(
        total=pager.total,
        start=pager.start,
        end=pager.end,
        has_next=pager.has_next,
        has_prev=pager.has_prev,
        size=pager.size,
        summary=pager.summary,
        next_cursor=pager.next_cursor,
        cursors=cursors,
    )

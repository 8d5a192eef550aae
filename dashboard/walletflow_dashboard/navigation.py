"""The nav, built from the pages the app registers: a page module says where it sits with
`NAV = Nav("Label", audience)` (or `NAV = None` for pages reached by links only, like detail
pages), and the app hands every module in its `PAGES` tuple over with `register` before the
pages are built. Adding a page is one module and one entry in `PAGES`."""

from __future__ import annotations

from dataclasses import dataclass

EVERYONE = "everyone"
"""Every signed-in role, merchants included."""
BOOKS = "books"
"""Books-wide pages: staff and analysts (a merchant's key sees only its own wallets)."""
ADMIN = "admin"
AUDIENCES = (EVERYONE, BOOKS, ADMIN)


@dataclass(frozen=True)
class Nav:
    label: str
    audience: str = BOOKS

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown nav audience {self.audience!r}")


@dataclass(frozen=True)
class Entry:
    label: str
    route: str
    audience: str

    @property
    def element_id(self) -> str:
        return "nav-" + self.label.lower().replace(" ", "-")


_entries: list[Entry] = []


def register(route: str, nav: Nav | None) -> None:
    """A page's place in the nav (in registration order); None: not in the nav."""
    if nav is None or any(e.route == route for e in _entries):
        return
    _entries.append(Entry(nav.label, route, nav.audience))


def entries(audience: str) -> list[Entry]:
    return [e for e in _entries if e.audience == audience]

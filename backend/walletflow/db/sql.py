"""Small SQL text helpers shared by every layer that builds a query (views, reporting, ledger).

LIKE patterns: an id may contain `_` (a LIKE wildcard), and a filter typed by a caller may
contain `%` or `\\`, so every prefix match escapes them and says `ESCAPE '\\'`.
"""

from __future__ import annotations

LIKE_ESCAPE = "\\"
"""The escape character every pattern below uses: pass it as `escape=` (SQLAlchemy) or write
`LIKE :pattern ESCAPE '\\'` in SQL text (PostgreSQL's default escape is the same character)."""


def like_escape(value: str) -> str:
    """`value` as a literal inside a LIKE pattern: `\\`, `%` and `_` lose their meaning."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching every string that starts with `prefix`, literally."""
    return like_escape(prefix) + "%"

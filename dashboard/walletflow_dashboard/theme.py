"""The two themes (the colour-mode toggle picks one): a dark terminal (near-black, phosphor
green, monospace) and a light "ledger paper" (cream, ruled rows, serif figures). Both are
plain CSS served from the dashboard's own assets (no CDN), plus the favicon."""

from __future__ import annotations

from typing import Any

import reflex as rx

STYLESHEET = "/themes.css"
FAVICON = "/favicon.svg"
STYLE: dict[str, Any] = {}


def head() -> list[rx.Component]:
    return [rx.el.link(rel="icon", type="image/svg+xml", href=FAVICON)]

"""Global search results (`/search?q=…`): every match, each a link to its detail page; one
match opens it directly; no match says so."""

from __future__ import annotations

from typing import Any

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import layout, link_to, section
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/search"
NAV = None


class SearchState(AppState):
    query: str = ""
    hits: list[data.HitRow] = []
    searched: bool = False

    async def run_search(self) -> Any:
        if not self.signed_in:
            return None
        self.query = str(self.router.page.params.get("q") or "").strip()
        self.search_text = self.query
        self.searched = False
        if not self.query:
            self.hits = []
            return None
        try:
            self.hits = await data.search(self.credential(), self.query)
        except ApiError as error:
            self.hits = []
            self.error = f"The search query failed: {error.code}: {error.message}"
            return None
        self.searched = True
        if len(self.hits) == 1:
            return rx.redirect(self.hits[0].href)
        return None


ON_LOAD = [AppState.guard, FormState.close_form, SearchState.run_search]


def hit_row(hit: rx.Var[data.HitRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(hit.kind)),
        rx.table.cell(link_to(hit.id, hit.href)),
        rx.table.cell(rx.text(hit.label, size="1")),
        class_name="search-hit",
    )


def page() -> rx.Component:
    return layout(
        "Search",
        section(
            rx.text("Results for ", rx.code(SearchState.query)),
            rx.cond(
                SearchState.searched & (SearchState.hits.length() == 0),  # type: ignore[attr-defined]
                rx.callout.root(
                    rx.callout.text(
                        "No merchant, transaction, payout or account matches ",
                        rx.code(SearchState.query),
                        ".",
                    ),
                    color_scheme="gray",
                    id="no-match",
                ),
            ),
            rx.table.root(
                rx.table.body(rx.foreach(SearchState.hits, hit_row)),
                id="search-results",
                size="1",
                width="100%",
            ),
        ),
    )

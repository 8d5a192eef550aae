"""Reconciliation: the four gates (live, green/red with detail), ALM, trial balance, and
rebuilding the statements read model."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import (
    command_form,
    form_button,
    gate_badges,
    generic_table,
    layout,
    section,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/reconciliation"
NAV = navigation.Nav("Reconciliation")


class ReconState(AppState):
    alm_summaries: data.Table = data.Table()
    alm_lines: data.Table = data.Table()
    books_foot: bool = False
    tb_totals: data.Table = data.Table()
    tb_lines: data.Table = data.Table()

    async def load_recon(self) -> None:
        if not self.signed_in:
            return
        await self._refresh_gates()
        credential = self.credential()
        try:
            self.alm_summaries, self.alm_lines = await data.alm(credential)
            self.books_foot, self.tb_totals, self.tb_lines = await data.trial_balance(credential)
        except ApiError as error:
            self.error = f"{error.code}: {error.message}"


ON_LOAD = [AppState.guard, AppState.watch_gates(ROUTE), FormState.close_form, ReconState.load_recon]


def page() -> rx.Component:
    return layout(
        "Reconciliation",
        section("Gates (live)", gate_badges(AppState.gates)),
        rx.hstack(
            form_button("Rebuild statements", "rebuildStatements", id="open-rebuild-statements"),
            rx.button("Refresh", on_click=ReconState.load_recon, variant="soft"),
        ),
        command_form(),
        section(
            "Assets and liabilities (ALM)",
            generic_table(ReconState.alm_summaries, "alm-summary-table"),
            rx.text("by account class", size="2", weight="medium"),
            generic_table(ReconState.alm_lines, "alm-table"),
        ),
        section(
            "Trial balance",
            rx.badge(
                rx.cond(ReconState.books_foot, "books foot", "books do NOT foot"),
                color_scheme=rx.cond(ReconState.books_foot, "green", "red"),
                id="books-foot",
            ),
            generic_table(ReconState.tb_totals, "trial-balance-totals"),
            generic_table(ReconState.tb_lines, "trial-balance-table"),
        ),
    )

"""Reconciliation: the four gates (live, green/red with detail), ALM, trial balance, and
rebuilding the statements read model."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
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


class ReconState(AppState):
    alm: data.Table = data.Table()
    trial_balance: data.Table = data.Table()

    async def load_recon(self) -> None:
        if not self.signed_in:
            return
        await self._refresh_gates()
        self.alm = await data.generic_table(self.credential(), self._schema, "alm")
        self.trial_balance = await data.generic_table(
            self.credential(), self._schema, "trialBalance"
        )


ON_LOAD = [AppState.guard, FormState.close_form, ReconState.load_recon]


def page() -> rx.Component:
    return layout(
        "Reconciliation",
        section("Gates (live)", gate_badges(AppState.gates)),
        rx.hstack(
            form_button("Rebuild statements", "rebuildStatements", id="open-rebuild-statements"),
            rx.button("Refresh", on_click=ReconState.load_recon, variant="soft"),
        ),
        command_form(),
        section("Assets and liabilities (ALM)", generic_table(ReconState.alm, "alm-table")),
        section("Trial balance", generic_table(ReconState.trial_balance, "trial-balance-table")),
    )

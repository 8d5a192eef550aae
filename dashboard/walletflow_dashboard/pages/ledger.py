"""Ledger: chart of accounts, GL mappings, templates; rebuild templates / COA; drift check."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError, api_url
from walletflow_dashboard.components import (
    command_form,
    form_button,
    generic_table,
    layout,
    section,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/ledger"


class LedgerState(AppState):
    coa: data.Table = data.Table()
    gl_mappings: data.Table = data.Table()
    templates_table: data.Table = data.Table()
    drift: data.Table = data.Table()
    export_url: str = ""

    async def load_ledger(self) -> None:
        if not self.signed_in:
            return
        credential = self.credential()
        try:
            self.templates_table, self.template_mismatches = await data.templates(credential)
        except ApiError as error:
            self.templates_table = data.Table(note=f"{error.code}: {error.message}")
        self.coa = await data.generic_table(credential, self._schema, "coa")
        self.gl_mappings = await data.generic_table(credential, self._schema, "glMappings")
        self.export_url = (
            f"{api_url()}/coa/export.csv" if "coaExport" in self._schema.queries else ""
        )

    async def check_drift(self) -> None:
        self.drift = await data.generic_table(self.credential(), self._schema, "drift")


ON_LOAD = [AppState.guard, FormState.close_form, LedgerState.load_ledger]


def page() -> rx.Component:
    return layout(
        "Ledger",
        rx.hstack(
            form_button("Rebuild templates", "rebuildTemplates", id="open-rebuild-templates"),
            form_button("Rebuild COA", "rebuildCoa", id="open-rebuild-coa"),
            rx.button("Drift check", on_click=LedgerState.check_drift, id="drift-check"),
            rx.cond(
                LedgerState.export_url != "",
                rx.link("Export COA (CSV)", href=LedgerState.export_url, is_external=True),
                rx.text("CSV export: `walletflow coa export`", size="1", color_scheme="gray"),
            ),
            align="center",
        ),
        command_form(),
        section("Drift", generic_table(LedgerState.drift, "drift-table")),
        section("Templates", generic_table(LedgerState.templates_table, "templates-table")),
        section("Chart of accounts", generic_table(LedgerState.coa, "coa-table")),
        section("GL mappings", generic_table(LedgerState.gl_mappings, "gl-table")),
    )

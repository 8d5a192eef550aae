"""Ledger: chart of accounts, GL mappings, templates; rebuild templates / COA; drift check."""

from __future__ import annotations

from typing import Any

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.api import ApiError
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
NAV = navigation.Nav("Ledger")


class LedgerState(AppState):
    coa: data.Table = data.Table()
    gl_mappings: data.Table = data.Table()
    templates_table: data.Table = data.Table()
    drift: data.Table = data.Table()

    async def load_ledger(self) -> None:
        if not self.signed_in:
            return
        credential = self.credential()
        try:
            self.templates_table, self.template_mismatches = await data.templates(credential)
        except ApiError as error:
            self.templates_table = data.Table(note=f"{error.code}: {error.message}")
        self.coa = await data.coa_table(credential)
        self.gl_mappings = await data.gl_mappings_table(credential)

    async def check_drift(self) -> None:
        table = await data.drift_table(self.credential())
        if not table.rows and table.note == "nothing yet":
            table = data.Table(note="no drift: seeds, loaded COA/GL mappings and templates agree")
        self.drift = table

    async def export_coa(self) -> Any:
        """The loaded COA as the seeds' CSV, built from the API's `coa` query."""
        try:
            coa, _ = await data.coa_csv(self.credential())
        except ApiError as error:
            self.error = f"{error.code}: {error.message}"
            return None
        return rx.download(data=coa, filename="coa.csv")

    async def export_gl(self) -> Any:
        try:
            _, gl = await data.coa_csv(self.credential())
        except ApiError as error:
            self.error = f"{error.code}: {error.message}"
            return None
        return rx.download(data=gl, filename="gl_mappings.csv")


ON_LOAD = [AppState.guard, FormState.close_form, LedgerState.load_ledger]


def page() -> rx.Component:
    return layout(
        "Ledger",
        rx.hstack(
            form_button("Rebuild templates", "rebuildTemplates", id="open-rebuild-templates"),
            form_button("Rebuild COA", "rebuildCoa", id="open-rebuild-coa"),
            rx.button("Drift check", on_click=LedgerState.check_drift, id="drift-check"),
            rx.button(
                "Export COA (CSV)", on_click=LedgerState.export_coa, variant="soft", id="export-coa"
            ),
            rx.button(
                "Export GL mappings (CSV)",
                on_click=LedgerState.export_gl,
                variant="soft",
                id="export-gl",
            ),
            align="center",
        ),
        command_form(),
        section("Drift", generic_table(LedgerState.drift, "drift-table")),
        section("Templates", generic_table(LedgerState.templates_table, "templates-table")),
        section("Chart of accounts", generic_table(LedgerState.coa, "coa-table")),
        section("GL mappings", generic_table(LedgerState.gl_mappings, "gl-table")),
    )

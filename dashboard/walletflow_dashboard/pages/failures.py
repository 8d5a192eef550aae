"""Failed commands (`/failures?window=3600&code=…`): the drill-down of the Overview's counts
by error code, newest first."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import empty_state, layout, link_to, section, simple_table
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/failures"
NAV = None
WINDOWS = {"3600": "last 1 h", "86400": "last 24 h"}


class FailuresState(AppState):
    window_label: str = ""
    code: str = ""
    failed: list[data.FailedRow] = []

    async def load_failures(self) -> None:
        if not self.signed_in:
            return
        params = self.router.page.params
        window = str(params.get("window") or "3600")
        window = window if window in WINDOWS else "3600"
        self.window_label = WINDOWS[window]
        self.code = str(params.get("code") or "")
        try:
            self.failed = await data.failed_commands(self.credential(), int(window), self.code)
        except ApiError as error:
            self.failed = []
            self.error = f"The failed-commands query failed: {error.code}: {error.message}"


ON_LOAD = [AppState.guard, FormState.close_form, FailuresState.load_failures]


def failed_row(f: rx.Var[data.FailedRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(f.at),
        rx.table.cell(rx.code(f.command, size="1")),
        rx.table.cell(rx.badge(f.code, color_scheme="red")),
        rx.table.cell(rx.text(f.actor, size="1")),
        rx.table.cell(
            rx.cond(f.merchant_id != "", link_to(f.merchant_id, "/merchant/" + f.merchant_id), "—")
        ),
        rx.table.cell(rx.code(f.key, size="1")),
        class_name="failed-row",
    )


def page() -> rx.Component:
    return layout(
        "Failed commands",
        section(
            rx.text(
                "Failed commands, ",
                FailuresState.window_label,
                rx.cond(FailuresState.code != "", " · " + FailuresState.code, ""),
            ),
            empty_state(FailuresState.failed, "no failed command in this window"),
            simple_table(
                ["At", "Command", "Error code", "Actor", "Merchant", "Idempotency key"],
                FailuresState.failed,
                failed_row,
                "failed-commands",
            ),
        ),
    )

"""Controls: feature flags, the outbox monitor (live), the event log (live)."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import (
    command_form,
    form_button,
    generic_table,
    layout,
    section,
    simple_table,
    stat,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/controls"
NAV = navigation.Nav("Controls")


class ControlsState(AppState):
    provider_events: data.Table = data.Table()

    async def load_controls(self) -> None:
        if not self.signed_in:
            return
        await self._refresh_flags()
        try:
            self.outbox_pending, self.outbox_age = await data.outbox(self.credential())
        except ApiError as error:
            self.error = f"{error.code}: {error.message}"
        self.provider_events = await data.provider_events_table(self.credential())


ON_LOAD = [AppState.guard, FormState.close_form, ControlsState.load_controls]


def event_row(e: rx.Var[data.TxRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(e.effective_at),
        rx.table.cell(rx.code(e.reference, size="1")),
        rx.table.cell(e.tx_id),
        rx.table.cell(rx.text(e.summary, size="1")),
    )


def page() -> rx.Component:
    return layout(
        "Controls",
        rx.hstack(
            form_button("Set feature flag", "setFeatureFlag", id="open-set-flag"),
            rx.button("Refresh", on_click=ControlsState.load_controls, variant="soft"),
        ),
        command_form(),
        section("Feature flags", generic_table(AppState.flags, "flags-table")),
        section(
            "Outbox monitor (live)",
            rx.hstack(
                stat("Pending events", AppState.outbox_pending.to_string(), "ctl-outbox-pending"),
                stat("Oldest pending", AppState.outbox_age, "ctl-outbox-age"),
            ),
        ),
        section("Provider events", generic_table(ControlsState.provider_events, "provider-table")),
        section(
            "Event log (live)",
            rx.input(
                placeholder="type prefix, e.g. payout. or provider.",
                value=AppState.events_filter,
                on_change=AppState.set_events_filter,
                width="320px",
                id="events-filter",
            ),
            simple_table(
                ["At", "Type", "Event", "Payload"], AppState.events_view, event_row, "events"
            ),
        ),
    )

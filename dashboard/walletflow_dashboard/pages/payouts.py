"""Payouts: holds by state/merchant/age, the manual-review queue (live), and settle / release /
send-to-manual-review forms prefilled from the chosen hold."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.components import (
    command_form,
    empty_state,
    export_button,
    layout,
    link_to,
    pager_bar,
    section,
    simple_table,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/payouts"
NAV = navigation.Nav("Payouts")
HOLD_STATES = ["any", "reserved", "manual_review", "settled", "released"]


ON_LOAD = [AppState.guard, FormState.close_form, AppState.load_holds]


def _actions(h: rx.Var[data.HoldRow]) -> rx.Component:
    open_states = (h.state == "reserved") | (h.state == "manual_review")
    return rx.cond(
        open_states,
        rx.hstack(
            rx.button(
                "Settle",
                size="1",
                on_click=FormState.open_prefilled("settleHold", "payoutId", h.payout_id),
                class_name="settle",
            ),
            rx.button(
                "Release",
                size="1",
                variant="soft",
                color_scheme="orange",
                on_click=FormState.open_prefilled("releaseHold", "payoutId", h.payout_id),
                class_name="release",
            ),
            rx.cond(
                h.state == "reserved",
                rx.button(
                    "Manual review",
                    size="1",
                    variant="soft",
                    on_click=FormState.open_prefilled(
                        "markPayoutManualReview", "payoutId", h.payout_id
                    ),
                    class_name="manual-review",
                ),
            ),
        ),
    )


def hold_row(h: rx.Var[data.HoldRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(h.payout_id, "/payout/" + h.payout_id)),
        rx.table.cell(link_to(h.merchant_id, "/merchant/" + h.merchant_id)),
        rx.table.cell(rx.text(h.amount, weight="bold")),
        rx.table.cell(h.provider),
        rx.table.cell(rx.badge(h.state_label)),
        rx.table.cell(rx.text(h.reason, size="1")),
        rx.table.cell(rx.text(h.created, size="1")),
        rx.table.cell(
            rx.hstack(
                rx.text(h.age),
                rx.cond(h.overdue, rx.badge("past SLA", color_scheme="red", class_name="sla")),
            )
        ),
        rx.table.cell(_actions(h)),
        id=f"hold-{h.payout_id}",
        class_name="hold-row",
    )


HEADERS = [
    "Payout", "Merchant", "Amount", "Provider", "State", "Reason", "Created", "In state for", "",
]  # fmt: skip


def page() -> rx.Component:
    return layout(
        "Payouts",
        command_form(),
        section(
            "Manual-review queue (live, oldest first)",
            rx.hstack(pager_bar("queue", AppState.queue_pager), export_button("queue")),
            empty_state(AppState.queue, "queue empty"),
            simple_table(HEADERS, AppState.queue, hold_row, "review-queue"),
        ),
        section(
            "Holds (newest first)",
            rx.hstack(
                rx.select(
                    HOLD_STATES,
                    value=AppState.hold_state,
                    on_change=AppState.set_hold_state,
                    id="hold-state",
                ),
                rx.form(
                    rx.hstack(
                        rx.input(
                            placeholder="merchant",
                            value=AppState.hold_merchant,
                            on_change=AppState.set_hold_merchant,
                            width="180px",
                            id="hold-merchant",
                        ),
                        rx.input(
                            placeholder="older than (s)",
                            value=AppState.hold_older_than_s,
                            on_change=AppState.set_hold_older_than_s,
                            width="140px",
                            id="hold-older",
                        ),
                        rx.button("Filter", type="submit", id="hold-filter"),
                    ),
                    on_submit=lambda _: AppState.apply_hold_filters(),
                    reset_on_submit=False,
                ),
                wrap="wrap",
            ),
            rx.hstack(pager_bar("holds", AppState.holds_pager), export_button("holds")),
            empty_state(AppState.holds, "no hold matches these filters"),
            simple_table(HEADERS, AppState.holds, hold_row, "holds-table"),
        ),
    )

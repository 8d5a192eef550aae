"""Overview: what needs attention first. Threshold-coloured cards (rolling windows, true
totals), red gates, failed commands by error code in the last hour and day, the manual-review
queue with ages and SLA flags, recent transactions — live."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import navigation
from walletflow_dashboard.components import (
    empty_state,
    gate_badges,
    layout,
    link_to,
    section,
    simple_table,
    stat,
)
from walletflow_dashboard.data import FailureRow, HoldRow, TxRow
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/"
NAV = navigation.Nav("Overview", navigation.EVERYONE)
ON_LOAD = [
    AppState.guard,
    AppState.watch_gates(ROUTE),
    FormState.close_form,
    AppState.load_overview,
]
FAILED_RED = 10
OUTBOX_RED = 100


def tx_row(tx: rx.Var[TxRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(tx.tx_id, "/tx/" + tx.tx_id)),
        rx.table.cell(rx.code(tx.reference, size="1")),
        rx.table.cell(tx.effective_at),
        rx.table.cell(rx.text(tx.summary, size="1")),
        class_name="tx-row",
    )


def queue_row(h: rx.Var[HoldRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(h.payout_id, "/payout/" + h.payout_id)),
        rx.table.cell(link_to(h.merchant_id, "/merchant/" + h.merchant_id)),
        rx.table.cell(h.amount),
        rx.table.cell(
            rx.hstack(
                rx.text(h.age),
                rx.cond(h.overdue, rx.badge("past SLA", color_scheme="red", class_name="sla")),
            )
        ),
        rx.table.cell(rx.text(h.reason, size="1")),
        class_name="queue-row",
    )


def failure_row(window: str) -> object:
    def row(f: rx.Var[FailureRow]) -> rx.Component:
        return rx.table.row(
            rx.table.cell(
                rx.link(
                    rx.badge(f.code, color_scheme="red"),
                    href="/failures?window=" + window + "&code=" + f.code,
                )
            ),
            rx.table.cell(f.count.to_string()),
            rx.table.cell(rx.code(f.last_command, size="1")),
            rx.table.cell(f.last_at),
            class_name="failure-row",
        )

    return row


def _tone(red: rx.Var[bool], amber: rx.Var[bool]) -> rx.Var:
    return rx.cond(red, "red", rx.cond(amber, "amber", "green"))


def page() -> rx.Component:
    queue_total = AppState.queue_pager.total
    return layout(
        "Overview",
        rx.hstack(
            stat(
                "Failed commands, last 1 h",
                AppState.failed_hour_total.to_string(),
                "failed-hour",
                _tone(AppState.failed_hour_total >= FAILED_RED, AppState.failed_hour_total > 0),
                href="/failures?window=3600",
            ),
            stat(
                "Failed commands, last 24 h",
                AppState.failed_day_total.to_string(),
                "failed-count",
                _tone(AppState.failed_day_total >= FAILED_RED, AppState.failed_day_total > 0),
                href="/failures?window=86400",
            ),
            stat(
                "Manual review",
                queue_total.to_string(),
                "queue-count",
                _tone(AppState.queue_overdue > 0, queue_total > 0),
                href="/payouts",
            ),
            stat(
                "Outbox pending",
                AppState.outbox_pending.to_string(),
                "outbox-pending",
                _tone(AppState.outbox_pending >= OUTBOX_RED, AppState.outbox_pending > 0),
            ),
            stat("Oldest outbox event", AppState.outbox_age, "outbox-age"),
            stat(
                "COA drift",
                AppState.drift_count,
                "drift-count",
                rx.cond(AppState.drift_count == "0", "green", "red"),
            ),
            stat(
                "Template mismatches",
                AppState.template_mismatches.to_string(),
                "template-mismatches",
                rx.cond(AppState.template_mismatches == 0, "green", "red"),
            ),
            stat("Posted (live feed)", AppState.posted_count.to_string(), "posted-count"),
            wrap="wrap",
            spacing="3",
        ),
        section("Ledger health", gate_badges(AppState.gates)),
        rx.grid(
            section(
                "Failed commands by error code, last 1 h",
                empty_state(AppState.failures_hour, "no failed command in the last hour"),
                simple_table(
                    ["Error code", "Count", "Last command", "Last at"],
                    AppState.failures_hour,
                    failure_row("3600"),
                    "failures-hour",
                ),
            ),
            section(
                "Failed commands by error code, last 24 h",
                empty_state(AppState.failures_day, "no failed command in the last 24 hours"),
                simple_table(
                    ["Error code", "Count", "Last command", "Last at"],
                    AppState.failures_day,
                    failure_row("86400"),
                    "failures-day",
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        section(
            "Manual review (oldest first)",
            empty_state(AppState.queue, "queue empty"),
            simple_table(
                ["Payout", "Merchant", "Amount", "Waiting", "Reason"],
                AppState.queue,
                queue_row,
                "overview-queue",
            ),
        ),
        section(
            "Recent transactions",
            simple_table(
                ["Tx", "Reference", "Effective", "Postings"],
                AppState.recent,
                tx_row,
                "recent-transactions",
            ),
        ),
    )

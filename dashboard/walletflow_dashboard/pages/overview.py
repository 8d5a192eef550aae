"""Overview: ledger health (gates), counts, outbox age, drift, recent transactions — live."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard.components import gate_badges, layout, section, simple_table, stat
from walletflow_dashboard.data import TxRow
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/"
ON_LOAD = [
    AppState.guard,
    AppState.watch_gates(ROUTE),
    FormState.close_form,
    AppState.load_overview,
]


def tx_row(tx: rx.Var[TxRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(tx.tx_id),
        rx.table.cell(rx.code(tx.reference, size="1")),
        rx.table.cell(tx.effective_at),
        rx.table.cell(rx.text(tx.summary, size="1")),
        class_name="tx-row",
    )


def page() -> rx.Component:
    return layout(
        "Overview",
        rx.hstack(
            stat("Posted (live, since sign-in)", AppState.posted_count.to_string(), "posted-count"),
            stat("Failed commands, last 24 h", AppState.failed_count, "failed-count"),
            stat("Outbox pending", AppState.outbox_pending.to_string(), "outbox-pending"),
            stat("Oldest outbox event", AppState.outbox_age, "outbox-age"),
            stat("Manual review", AppState.queue.length().to_string(), "queue-count"),
            stat("COA drift", AppState.drift_count, "drift-count"),
            stat(
                "Template mismatches",
                AppState.template_mismatches.to_string(),
                "template-mismatches",
            ),
            wrap="wrap",
            spacing="3",
        ),
        section("Ledger health", gate_badges(AppState.gates)),
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

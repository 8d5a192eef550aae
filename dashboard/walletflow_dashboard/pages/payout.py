"""A payout and its hold (deep link `/payout/<id>`): amount, state and age (flagged past the
SLA), provider and destination as labelled fields, and the ledger transactions on the hold's
sub-account (reserve, settle or release), each a link."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import (
    fields_list,
    layout,
    link_to,
    not_found,
    section,
    simple_table,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/payout/[route_payout]"
NAV = None


class PayoutState(AppState):
    payout: data.PayoutView = data.PayoutView()
    payout_problem: str = ""
    payout_txs: list[data.TxRow] = []

    async def load_payout(self) -> None:
        if not self.signed_in:
            return
        payout_id = str(self.router.page.params.get("route_payout") or "")
        self.payout_problem = ""
        try:
            self.payout = await data.payout(self.credential(), payout_id)
            self.payout_txs, _ = await data.transactions(
                self.credential(), 50, account=self.payout.hold_account
            )
        except ApiError as error:
            self.payout = data.PayoutView()
            self.payout_txs = []
            self.payout_problem = (
                f"No payout {payout_id}."
                if error.code == "NOT_FOUND"
                else f"The payout query failed: {error.code}: {error.message}"
            )


ON_LOAD = [AppState.guard, FormState.close_form, PayoutState.load_payout]


def tx_row(tx: rx.Var[data.TxRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(tx.tx_id, "/tx/" + tx.tx_id)),
        rx.table.cell(rx.code(tx.reference, size="1")),
        rx.table.cell(tx.effective_at),
        rx.table.cell(rx.text(tx.summary, size="1")),
    )


def page() -> rx.Component:
    p = PayoutState.payout
    return layout(
        "Payout",
        rx.cond(
            p.found,
            rx.vstack(
                section(
                    "Payout " + p.payout_id,
                    rx.hstack(
                        rx.heading(p.amount, size="5", id="payout-amount"),
                        rx.badge(p.state, size="2", id="payout-state"),
                        rx.cond(p.overdue, rx.badge("past SLA", color_scheme="red")),
                        align="center",
                    ),
                    rx.text(
                        "Merchant ",
                        link_to(p.merchant_id, "/merchant/" + p.merchant_id),
                        " · hold account ",
                        link_to(p.hold_account, "/account/" + p.hold_account),
                        " · ledger balance ",
                        rx.text.strong(p.ledger_balance),
                        size="2",
                    ),
                    fields_list(p.fields, "payout-fields"),
                ),
                section(
                    "Ledger history of the hold",
                    simple_table(
                        ["Tx", "Reference", "Effective", "Postings"],
                        PayoutState.payout_txs,
                        tx_row,
                        "payout-transactions",
                    ),
                ),
                width="100%",
            ),
            not_found(PayoutState.payout_problem),
        ),
    )

"""A ledger transaction (deep link `/tx/<id>`): its postings, metadata as labelled fields, the
reversal and payout links. An unknown id is a clear not-found page."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import fields_list, layout, link_to, not_found, section
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/tx/[route_tx]"
NAV = None


class TransactionState(AppState):
    tx: data.TxView = data.TxView()
    tx_problem: str = ""

    async def load_transaction(self) -> None:
        if not self.signed_in:
            return
        tx_id = str(self.router.page.params.get("route_tx") or "")
        self.tx_problem = ""
        try:
            self.tx = await data.transaction(self.credential(), tx_id)
        except ApiError as error:
            self.tx = data.TxView()
            self.tx_problem = (
                f"No transaction {tx_id}."
                if error.code == "NOT_FOUND"
                else f"The transaction query failed: {error.code}: {error.message}"
            )


ON_LOAD = [AppState.guard, FormState.close_form, TransactionState.load_transaction]


def leg_row(leg: rx.Var[data.LegRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(leg.source, "/account/" + leg.source)),
        rx.table.cell(link_to(leg.destination, "/account/" + leg.destination)),
        rx.table.cell(rx.text(leg.amount, weight="bold")),
        class_name="leg-row",
    )


def page() -> rx.Component:
    tx = TransactionState.tx
    return layout(
        "Transaction",
        rx.cond(
            tx.found,
            rx.vstack(
                section(
                    "Transaction " + tx.tx_id,
                    rx.data_list.root(
                        rx.data_list.item(
                            rx.data_list.label("Transaction ID"),
                            rx.data_list.value(rx.code(tx.tx_id, id="tx-id")),
                        ),
                        rx.data_list.item(
                            rx.data_list.label("Reference"),
                            rx.data_list.value(rx.code(tx.reference, id="tx-reference")),
                        ),
                        rx.data_list.item(
                            rx.data_list.label("Effective"), rx.data_list.value(tx.effective_at)
                        ),
                        rx.data_list.item(
                            rx.data_list.label("Recorded"), rx.data_list.value(tx.inserted_at)
                        ),
                        rx.data_list.item(
                            rx.data_list.label("Reverted"),
                            rx.data_list.value(rx.cond(tx.reverted, "yes", "no")),
                        ),
                        rx.cond(
                            tx.reverts_tx_id != "",
                            rx.data_list.item(
                                rx.data_list.label("Reverses"),
                                rx.data_list.value(
                                    link_to(tx.reverts_tx_id, "/tx/" + tx.reverts_tx_id)
                                ),
                            ),
                        ),
                        rx.cond(
                            tx.payout_id != "",
                            rx.data_list.item(
                                rx.data_list.label("Payout"),
                                rx.data_list.value(
                                    link_to(tx.payout_id, "/payout/" + tx.payout_id)
                                ),
                            ),
                        ),
                        size="2",
                    ),
                ),
                section(
                    "Postings",
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("From"),
                                rx.table.column_header_cell("To"),
                                rx.table.column_header_cell("Amount"),
                            )
                        ),
                        rx.table.body(rx.foreach(tx.legs, leg_row)),
                        id="tx-postings",
                        size="1",
                        width="100%",
                    ),
                ),
                section("Metadata", fields_list(tx.metadata, "tx-metadata")),
                width="100%",
            ),
            not_found(TransactionState.tx_problem),
        ),
    )

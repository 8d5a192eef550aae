"""Wallets: create one, live balances, a wallet's statement with before/after balances."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import command_form, form_button, layout, section, simple_table
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/wallets"


class WalletsState(AppState):
    statement_wallet: str = ""
    statement_rows: list[data.StatementRow] = []
    statement_note: str = ""

    async def show_statement(self, merchant_id: str, currency: str) -> None:
        self.statement_wallet = f"{merchant_id} {currency}"
        try:
            rows, note = await data.statement(self.credential(), merchant_id, currency)
        except ApiError as error:
            rows, note = [], f"{error.code}: {error.message}"
        self.statement_rows = rows
        self.statement_note = note


ON_LOAD = [AppState.guard, FormState.close_form, AppState.load_wallets]


def wallet_row(w: rx.Var[data.WalletRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(w.merchant_id),
        rx.table.cell(w.currency),
        rx.table.cell(rx.text(w.available, weight="bold", class_name="available")),
        rx.table.cell(w.holds),
        rx.table.cell(w.reserve),
        rx.table.cell(w.total),
        rx.table.cell(
            rx.button(
                "Statement",
                size="1",
                variant="soft",
                on_click=WalletsState.show_statement(w.merchant_id, w.currency),
            )
        ),
        class_name="wallet-row",
        id=f"wallet-{w.merchant_id}-{w.currency}",
    )


def statement_row(r: rx.Var[data.StatementRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.tx_id),
        rx.table.cell(r.effective_at),
        rx.table.cell(rx.code(r.counterparty, size="1")),
        rx.table.cell(r.before),
        rx.table.cell(rx.text(r.change, weight="bold")),
        rx.table.cell(r.after),
    )


def page() -> rx.Component:
    return layout(
        "Wallets",
        rx.hstack(
            form_button("Create wallet", "createWallet", id="open-create-wallet"),
            rx.input(
                placeholder="filter by merchant",
                value=AppState.wallet_filter,
                on_change=AppState.set_wallet_filter,
                on_blur=AppState.load_wallets,
                width="240px",
            ),
            rx.button("Refresh", on_click=AppState.load_wallets, variant="soft"),
        ),
        command_form(),
        section(
            "Balances (live)",
            simple_table(
                ["Merchant", "Currency", "Available", "Holds", "Reserve", "Total", ""],
                AppState.wallets,
                wallet_row,
                "wallets-table",
            ),
        ),
        rx.cond(
            WalletsState.statement_wallet != "",
            section(
                "Statement",
                rx.text(WalletsState.statement_wallet, weight="bold"),
                rx.text(WalletsState.statement_note, size="1", color_scheme="gray"),
                simple_table(
                    ["Tx", "Effective", "Counterparty", "Before", "Change", "After"],
                    WalletsState.statement_rows,
                    statement_row,
                    "statement-table",
                ),
            ),
        ),
    )

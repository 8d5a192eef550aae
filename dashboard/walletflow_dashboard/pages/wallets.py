"""Wallets: every wallet, paged through the API's cursors with its true total, filtered by
merchant id prefix as you type; each merchant and balance opens its detail page."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.components import (
    command_form,
    empty_state,
    export_button,
    form_button,
    layout,
    link_to,
    pager_bar,
    section,
    simple_table,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/wallets"
NAV = navigation.Nav("Wallets", navigation.EVERYONE)
ON_LOAD = [AppState.guard, FormState.close_form, AppState.load_wallets]


def wallet_row(w: rx.Var[data.WalletRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(w.merchant_id, "/merchant/" + w.merchant_id)),
        rx.table.cell(w.currency),
        rx.table.cell(
            rx.link(
                rx.text(w.available, weight="bold", class_name="available"),
                href="/account/" + w.available_account,
                class_name="balance-link",
            )
        ),
        rx.table.cell(w.holds),
        rx.table.cell(w.reserve),
        rx.table.cell(w.total),
        class_name="wallet-row",
        id=f"wallet-{w.merchant_id}-{w.currency}",
    )


def page() -> rx.Component:
    return layout(
        "Wallets",
        rx.hstack(
            form_button("Create wallet", "createWallet", id="open-create-wallet"),
            rx.input(
                placeholder="merchant id starts with…",
                value=AppState.wallet_filter,
                on_change=AppState.set_wallet_filter,
                width="240px",
                id="wallet-filter",
            ),
            rx.button("Refresh", on_click=AppState.load_wallets, variant="soft"),
            align="center",
        ),
        command_form(),
        section(
            "Balances (live)",
            rx.hstack(pager_bar("wallets", AppState.wallets_pager), export_button("wallets")),
            empty_state(AppState.wallets, "no wallet matches"),
            simple_table(
                ["Merchant", "Currency", "Available", "Holds", "Reserve", "Total"],
                AppState.wallets,
                wallet_row,
                "wallets-table",
            ),
        ),
    )

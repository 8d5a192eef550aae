"""A merchant (deep link `/merchant/<id>`): its wallets and balances (each balance opens its
account), its statement of a chosen currency (paged, newest first) and its open holds."""

from __future__ import annotations

from typing import Any

import reflex as rx

from walletflow_dashboard import data, paging
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import (
    empty_state,
    export_button,
    layout,
    link_to,
    not_found,
    pager_bar,
    section,
    simple_table,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.paging import Pager
from walletflow_dashboard.state import AppState

ROUTE = "/merchant/[route_merchant]"
NAV = None


class MerchantState(AppState):
    merchant: str = ""
    merchant_wallets: list[data.WalletRow] = []
    merchant_problem: str = ""
    statement_currency: str = ""
    statement_rows: list[data.StatementRow] = []
    statement_pager: Pager = Pager()
    merchant_holds: list[data.HoldRow] = []

    async def load_merchant(self) -> None:
        if not self.signed_in:
            return
        self.merchant = str(self.router.page.params.get("route_merchant") or "")
        self.merchant_problem = ""
        try:
            rows, _ = await data.wallets(self.credential(), first=200, merchant_id=self.merchant)
        except ApiError as error:
            self.merchant_wallets = []
            self.merchant_problem = f"The wallets query failed: {error.code}: {error.message}"
            return
        self.merchant_wallets = rows
        if not rows:
            self.merchant_problem = f"No merchant {self.merchant} (it has no wallet)."
            return
        wanted = str(self.router.page.params.get("currency") or "")
        currencies = [w.currency for w in rows]
        self.statement_currency = wanted if wanted in currencies else currencies[0]
        self.statement_pager = paging.first_page(self.statement_pager)
        await self._refresh_statement()
        if self.role != "merchant" or self.merchant_id == self.merchant:
            try:
                self.merchant_holds, _ = await data.holds(
                    self.credential(), "", self.merchant, "", 50
                )
            except ApiError as error:
                self.error = f"holds: {error.code}: {error.message}"

    async def _refresh_statement(self) -> None:
        pager = self.statement_pager
        try:
            rows, meta = await data.statement(
                self.credential(), self.merchant, self.statement_currency, pager.size, pager.after
            )
        except ApiError as error:
            self.error = f"statements: {error.code}: {error.message}"
            return
        self.statement_rows = rows
        self.statement_pager = paging.shown(pager, len(rows), meta)

    async def show_currency(self, currency: str) -> None:
        self.statement_currency = currency
        self.statement_pager = paging.first_page(self.statement_pager)
        await self._refresh_statement()

    async def export_statement(self) -> Any:
        from walletflow_dashboard import export

        try:
            text = await export.statement_csv(
                self.credential(), self.merchant, self.statement_currency
            )
        except ApiError as error:
            self.error = f"statement export: {error.code}: {error.message}"
            return None
        filename = f"walletflow-statement-{self.merchant}-{self.statement_currency}.csv"
        return rx.download(data=text, filename=filename)

    async def statement_next(self) -> None:
        self.statement_pager = paging.forward(self.statement_pager)
        await self._refresh_statement()

    async def statement_prev(self) -> None:
        self.statement_pager = paging.back(self.statement_pager)
        await self._refresh_statement()

    async def statement_size(self, size: str) -> None:
        self.statement_pager = paging.first_page(self.statement_pager, int(size))
        await self._refresh_statement()


ON_LOAD = [AppState.guard, FormState.close_form, MerchantState.load_merchant]


def wallet_row(w: rx.Var[data.WalletRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(w.currency),
        rx.table.cell(
            rx.link(
                rx.text(w.available, weight="bold"),
                href="/account/" + w.available_account,
                class_name="balance-link",
            )
        ),
        rx.table.cell(w.holds),
        rx.table.cell(w.reserve),
        rx.table.cell(w.total),
        rx.table.cell(
            rx.button(
                "Statement",
                size="1",
                variant="soft",
                on_click=MerchantState.show_currency(w.currency),
            )
        ),
        class_name="merchant-wallet-row",
    )


def statement_row(r: rx.Var[data.StatementRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(r.tx_id, "/tx/" + r.tx_id)),
        rx.table.cell(r.effective_at),
        rx.table.cell(rx.code(r.counterparty, size="1")),
        rx.table.cell(r.before),
        rx.table.cell(rx.text(r.change, weight="bold")),
        rx.table.cell(r.after),
        class_name="statement-row",
    )


def hold_row(h: rx.Var[data.HoldRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(h.payout_id, "/payout/" + h.payout_id)),
        rx.table.cell(h.amount),
        rx.table.cell(rx.badge(h.state_label)),
        rx.table.cell(h.age),
    )


def page() -> rx.Component:
    return layout(
        "Merchant",
        rx.cond(
            MerchantState.merchant_problem == "",
            rx.vstack(
                section(
                    "Merchant " + MerchantState.merchant,
                    simple_table(
                        ["Currency", "Available", "Holds", "Reserve", "Total", ""],
                        MerchantState.merchant_wallets,
                        wallet_row,
                        "merchant-wallets",
                    ),
                ),
                section(
                    "Statement " + MerchantState.statement_currency + " (newest first)",
                    export_button("statement", MerchantState.export_statement),
                    pager_bar(
                        "statement",
                        MerchantState.statement_pager,
                        (
                            MerchantState.statement_prev,
                            MerchantState.statement_next,
                            MerchantState.statement_size,
                        ),
                    ),
                    empty_state(MerchantState.statement_rows, "no movement yet"),
                    simple_table(
                        ["Tx", "Effective", "Counterparty", "Before", "Change", "After"],
                        MerchantState.statement_rows,
                        statement_row,
                        "statement-table",
                    ),
                ),
                section(
                    "Payouts (newest first)",
                    empty_state(MerchantState.merchant_holds, "no payout yet"),
                    simple_table(
                        ["Payout", "Amount", "State", "In state for"],
                        MerchantState.merchant_holds,
                        hold_row,
                        "merchant-holds",
                    ),
                ),
                width="100%",
            ),
            not_found(MerchantState.merchant_problem),
        ),
    )

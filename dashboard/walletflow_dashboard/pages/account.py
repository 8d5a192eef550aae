"""A ledger account (deep link `/account/<address>`; fees, VAT, provider and bank accounts
too): its balance now and as of a date, and its postings, paged newest first, each transaction
a link. A prefix (`fees:`) lists the balances under it."""

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
    pager_bar,
    section,
    simple_table,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.paging import Pager
from walletflow_dashboard.state import AppState

ROUTE = "/account/[route_account]"
NAV = None


class AccountState(AppState):
    address: str = ""
    account_balances: list[data.BalanceRow] = []
    as_of: str = ""
    as_of_balances: list[data.BalanceRow] = []
    account_postings: list[data.PostingRow] = []
    postings_pager: Pager = Pager()
    account_problem: str = ""

    async def load_account(self) -> None:
        if not self.signed_in:
            return
        self.address = str(self.router.page.params.get("route_account") or "")
        self.account_problem = ""
        self.as_of_balances = []
        try:
            self.account_balances = await self._balances("")
        except ApiError as error:
            self.account_balances = []
            self.account_problem = f"The balances query failed: {error.code}: {error.message}"
            return
        self.postings_pager = paging.first_page(self.postings_pager)
        await self._refresh_postings()

    async def _balances(self, effective_at: str) -> list[data.BalanceRow]:
        if self.address.endswith(":"):
            return await data.balances(
                self.credential(), prefix=self.address, effective_at=effective_at
            )
        return await data.balances(
            self.credential(), account=self.address, effective_at=effective_at
        )

    async def _refresh_postings(self) -> None:
        pager = self.postings_pager
        try:
            rows, meta = await data.postings(
                self.credential(), self.address, pager.size, pager.after
            )
        except ApiError as error:
            self.account_problem = f"The postings query failed: {error.code}: {error.message}"
            return
        self.account_postings = rows
        self.postings_pager = paging.shown(pager, len(rows), meta)

    def set_as_of(self, value: str) -> None:
        self.as_of = value

    async def show_as_of(self) -> None:
        """The balance at the end of the chosen day (UTC)."""
        day = self.as_of.strip()
        if not day:
            self.as_of_balances = []
            return
        try:
            self.as_of_balances = await self._balances(f"{day}T23:59:59.999999+00:00")
        except ApiError as error:
            self.error = f"balances as of {day}: {error.code}: {error.message}"

    async def export_postings(self) -> Any:
        from walletflow_dashboard import export

        try:
            text = await export.postings_csv(self.credential(), self.address)
        except ApiError as error:
            self.error = f"postings export: {error.code}: {error.message}"
            return None
        name = self.address.replace(":", "_") or "postings"
        return rx.download(data=text, filename=f"walletflow-postings-{name}.csv")

    async def postings_next(self) -> None:
        self.postings_pager = paging.forward(self.postings_pager)
        await self._refresh_postings()

    async def postings_prev(self) -> None:
        self.postings_pager = paging.back(self.postings_pager)
        await self._refresh_postings()

    async def postings_size(self, size: str) -> None:
        self.postings_pager = paging.first_page(self.postings_pager, int(size))
        await self._refresh_postings()


ON_LOAD = [AppState.guard, FormState.close_form, AccountState.load_account]


def balance_row(b: rx.Var[data.BalanceRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(b.account, "/account/" + b.account)),
        rx.table.cell(rx.text(b.balance, weight="bold", class_name="account-balance")),
    )


def posting_row(p: rx.Var[data.PostingRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(link_to(p.tx_id, "/tx/" + p.tx_id)),
        rx.table.cell(p.effective_at),
        rx.table.cell(link_to(p.source, "/account/" + p.source)),
        rx.table.cell(link_to(p.destination, "/account/" + p.destination)),
        rx.table.cell(
            rx.text(
                rx.cond(p.incoming, "+", "-"),
                p.amount,
                weight="bold",
                color_scheme=rx.cond(p.incoming, "green", "red"),
            )
        ),
        class_name="posting-row",
    )


def page() -> rx.Component:
    return layout(
        "Account",
        rx.cond(
            AccountState.account_problem != "",
            rx.callout.root(
                rx.callout.text(AccountState.account_problem),
                color_scheme="amber",
                id="not-found",
            ),
        ),
        section(
            rx.text("Account ", rx.code(AccountState.address, id="account-address")),
            rx.text("Balance now", size="2", color_scheme="gray"),
            empty_state(AccountState.account_balances, "no balance: nothing posted here yet"),
            simple_table(
                ["Account", "Balance"],
                AccountState.account_balances,
                balance_row,
                "account-balances",
            ),
            rx.hstack(
                rx.text("As of the end of (UTC)", size="2"),
                rx.input(
                    type="date",
                    value=AccountState.as_of,
                    on_change=AccountState.set_as_of,
                    id="as-of",
                    width="170px",
                ),
                rx.button("Show", on_click=AccountState.show_as_of, size="1", id="as-of-show"),
                align="center",
            ),
            rx.cond(
                AccountState.as_of_balances.length() > 0,  # type: ignore[attr-defined]
                simple_table(
                    ["Account", "Balance as of " + AccountState.as_of],
                    AccountState.as_of_balances,
                    balance_row,
                    "as-of-balances",
                ),
            ),
        ),
        section(
            "Postings (newest first)",
            export_button("postings", AccountState.export_postings),
            pager_bar(
                "postings",
                AccountState.postings_pager,
                (
                    AccountState.postings_prev,
                    AccountState.postings_next,
                    AccountState.postings_size,
                ),
            ),
            empty_state(AccountState.account_postings, "no posting touches this account"),
            simple_table(
                ["Tx", "Effective", "From", "To", "Amount"],
                AccountState.account_postings,
                posting_row,
                "account-postings",
            ),
        ),
    )

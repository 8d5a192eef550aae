"""walletflow ops dashboard (Reflex): one app, one module per page, GraphQL to the API only.

A page module has `ROUTE`, `NAV` (`navigation.Nav(label, audience)`, or None for pages reached
by links only), `ON_LOAD` and `page()`. Adding a page: write its module and add it to `PAGES`
(the nav follows, in this order)."""

import reflex as rx

from walletflow_dashboard import navigation, presence, theme
from walletflow_dashboard.pages import (
    account,
    controls,
    failures,
    ledger,
    merchant,
    operations,
    overview,
    payout,
    payouts,
    reconciliation,
    search,
    settings,
    signin,
    transaction,
    wallets,
)
from walletflow_dashboard.state import AppState

PAGES = (
    overview,
    wallets,
    operations,
    payouts,
    ledger,
    reconciliation,
    controls,
    settings,
    signin,
    search,
    transaction,
    payout,
    merchant,
    account,
    failures,
)

app = rx.App(
    # Never pull stylesheets/fonts from a CDN; Radix Themes is bundled, fonts are the system's.
    stylesheets=[theme.STYLESHEET],
    head_components=theme.head(),
    style=theme.STYLE,
)
presence.watch(app)  # the live feeds ask it which tabs are still connected
for module in PAGES:  # the nav first: every page's layout shows all of it
    navigation.register(module.ROUTE, module.NAV)
for module in PAGES:
    app.add_page(
        module.page,
        route=module.ROUTE,
        title="walletflow ops",
        # Last: mark the page loaded (the shell's data-loaded), so a click never races a load.
        on_load=[*module.ON_LOAD, AppState.page_loaded(module.ROUTE)],
    )

"""walletflow ops dashboard (Reflex): one app, one module per page, GraphQL to the API only."""

import reflex as rx

from walletflow_dashboard import presence
from walletflow_dashboard.pages import (
    controls,
    jobs,
    ledger,
    operations,
    overview,
    payouts,
    reconciliation,
    settings,
    signin,
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
    jobs,
    settings,
    signin,
)

app = rx.App(
    # Never pull stylesheets/fonts from a CDN; Radix Themes is bundled, fonts are the system's.
    stylesheets=[],
)
presence.watch(app)  # the live feeds ask it which tabs are still connected
for module in PAGES:
    app.add_page(
        module.page,
        route=module.ROUTE,
        title="walletflow ops",
        # Last: mark the page loaded (the shell's data-loaded), so a click never races a load.
        on_load=[*module.ON_LOAD, AppState.page_loaded(module.ROUTE)],
    )

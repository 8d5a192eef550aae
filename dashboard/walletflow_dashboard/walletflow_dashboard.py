"""walletflow ops dashboard (Reflex)."""

import reflex as rx


def index() -> rx.Component:
    return rx.container(
        rx.vstack(
            rx.heading("walletflow ops", size="8", id="title"),
            rx.text("Operations dashboard for the walletflow wallet."),
            spacing="4",
        ),
        padding_y="2em",
    )


app = rx.App(
    # Never pull stylesheets/fonts from a CDN; the default theme is bundled.
    stylesheets=[],
)
app.add_page(index, route="/", title="walletflow ops")

"""Sign-in: the operator token (exchanged with the API for a session kept server-side), an API
key for merchants and analysts, and Google when the API has it configured."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard.state import AppState

ROUTE = "/signin"
NAV = None
ON_LOAD = [AppState.load_sign_in]


def page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading("walletflow ops", size="7", id="title"),
                    rx.spacer(),
                    rx.color_mode.button(id="theme-toggle"),
                    width="100%",
                ),
                rx.text("Sign in to the operations console.", color_scheme="gray"),
                rx.form(
                    rx.vstack(
                        rx.text("Operator token or API key", size="2", weight="medium"),
                        rx.input(
                            name="secret",
                            type="password",
                            placeholder="AUTH_TOKEN, or wf_<id>_<secret>",
                            id="sign-in-secret",
                            width="100%",
                        ),
                        rx.button(
                            "Sign in",
                            type="submit",
                            loading=AppState.signing_in,
                            id="sign-in-submit",
                            width="100%",
                        ),
                        width="100%",
                    ),
                    # Uncontrolled: the secret travels once, with the submit, and is not kept.
                    on_submit=AppState.submit_sign_in,
                    reset_on_submit=True,
                    width="100%",
                ),
                rx.cond(
                    AppState.google_sign_in,
                    rx.link(
                        rx.button("Sign in with Google", variant="outline", width="100%"),
                        href=AppState.google_login_url,
                        id="google-sign-in",
                        width="100%",
                    ),
                ),
                rx.cond(
                    AppState.open_dev,
                    rx.vstack(
                        rx.callout(
                            "The API has no auth configured (dev): every caller is admin.",
                            color_scheme="amber",
                            size="1",
                        ),
                        rx.button(
                            "Continue without signing in (dev)",
                            on_click=AppState.continue_open_dev,
                            variant="soft",
                            id="open-dev",
                            width="100%",
                        ),
                        width="100%",
                    ),
                ),
                rx.cond(
                    AppState.sign_in_error != "",
                    rx.callout(
                        AppState.sign_in_error, color_scheme="red", size="1", id="sign-in-error"
                    ),
                ),
                spacing="4",
                width="100%",
            ),
            width="420px",
            padding="2em",
        ),
        height="100vh",
    )

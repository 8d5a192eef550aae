"""Settings (admins only): the access lists and API keys."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import data, navigation
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.components import (
    command_form,
    form_button,
    generic_table,
    layout,
    section,
)
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.results import CreatedApiKey
from walletflow_dashboard.state import AppState

ROUTE = "/settings"
NAV = navigation.Nav("Settings", navigation.ADMIN)
KEY_ROLES = ["merchant", "analyst"]


class SettingsState(AppState):
    api_keys: data.Table = data.Table()
    key_role: str = "merchant"
    key_merchant: str = ""
    key_label: str = ""
    key_revoke_id: str = ""
    new_token: str = ""
    key_message: str = ""

    def set_key_role(self, value: str) -> None:
        self.key_role = value

    def set_key_merchant(self, value: str) -> None:
        self.key_merchant = value

    def set_key_label(self, value: str) -> None:
        self.key_label = value

    def set_key_revoke_id(self, value: str) -> None:
        self.key_revoke_id = value

    async def load_settings(self) -> None:
        if not self.signed_in or not self.is_admin:
            return
        self.api_keys = await data.api_keys(self.credential())

    async def create_key(self) -> None:
        self.new_token = ""
        try:
            result = await data.create_api_key(
                self.credential(),
                role=self.key_role,
                merchant_id=self.key_merchant.strip() or None,
                label=self.key_label.strip(),
            )
        except ApiError as error:
            self.key_message = f"{error.code}: {error.message}"
            return
        if isinstance(result, CreatedApiKey):
            self.new_token = result.token
            self.key_message = "copy the key now: it is never shown again"
        else:
            self.key_message = f"{result.code}: {result.message}"
        await self.load_settings()

    async def revoke_key(self) -> None:
        try:
            refusal = await data.revoke_api_key(self.credential(), self.key_revoke_id.strip())
            self.key_message = f"{refusal.code}: {refusal.message}" if refusal else "revoked"
        except ApiError as error:
            self.key_message = f"{error.code}: {error.message}"
        await self.load_settings()


ON_LOAD = [AppState.guard, FormState.close_form, SettingsState.load_settings]


def _admin_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(form_button("Edit access lists", "saveAccessLists", id="open-access-lists")),
        command_form(),
        section(
            "API keys",
            rx.hstack(
                rx.select(
                    KEY_ROLES, value=SettingsState.key_role, on_change=SettingsState.set_key_role
                ),
                rx.input(
                    placeholder="merchant id",
                    value=SettingsState.key_merchant,
                    on_change=SettingsState.set_key_merchant,
                ),
                rx.input(
                    placeholder="label",
                    value=SettingsState.key_label,
                    on_change=SettingsState.set_key_label,
                ),
                rx.button("Create key", on_click=SettingsState.create_key, id="create-key"),
            ),
            rx.hstack(
                rx.input(
                    placeholder="key id to revoke",
                    value=SettingsState.key_revoke_id,
                    on_change=SettingsState.set_key_revoke_id,
                ),
                rx.button("Revoke", on_click=SettingsState.revoke_key, color_scheme="red"),
            ),
            rx.cond(SettingsState.key_message != "", rx.text(SettingsState.key_message, size="2")),
            rx.cond(SettingsState.new_token != "", rx.code(SettingsState.new_token, id="new-key")),
            generic_table(SettingsState.api_keys, "api-keys-table"),
        ),
        width="100%",
        spacing="4",
        id="settings-admin",
    )


def page() -> rx.Component:
    return layout(
        "Settings",
        rx.cond(
            AppState.is_admin,
            _admin_page(),
            rx.callout(
                "FORBIDDEN: Settings are for admins only.",
                color_scheme="red",
                id="admin-only",
            ),
        ),
    )

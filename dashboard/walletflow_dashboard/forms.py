"""The one generated command form: any registry command, its inputs, its result card.

`FormState.open_form(name, prefill)` makes a command the active form (from the Operations list,
a hold's Settle button, …); the form's inputs are rendered from the registry fields by kind.

Idempotency: each command has a uuid4 key. It is kept across errors (a failed command claims
nothing, so a corrected retry may reuse it) and across an unchanged resubmission after a success
(the API replays the first result, `replayed: true`); it rotates only after a success, as soon
as the operator edits the form or asks for a new operation.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import reflex as rx

from walletflow_dashboard import commands, data
from walletflow_dashboard.api import ApiError
from walletflow_dashboard.commands import (
    CommandResult,
    FormField,
    currency_codes,
    form_fields,
    initial_values,
    input_variables,
    scale_hint,
)
from walletflow_dashboard.state import AppState

CURRENCIES = currency_codes()


class FormState(AppState):
    form_command: str = ""
    form_title: str = ""
    form_description: str = ""
    form_moves_money: bool = False
    form_fields: list[FormField] = []
    form_values: dict[str, str] = {}
    form_errors: dict[str, str] = {}
    form_hints: dict[str, str] = {}
    form_key: str = ""
    submitting: bool = False
    result_seq: int = 0
    has_result: bool = False
    result: CommandResult = CommandResult()
    quote_prefill: dict[str, str] = {}
    _keys: dict[str, str] = {}
    _succeeded: dict[str, bool] = {}

    wallet_currencies: list[str] = []
    merchant_options: list[str] = []
    merchant_field: str = ""

    @rx.var
    def currencies(self) -> list[str]:
        """The currencies that have wallets (a new wallet may be in any currency)."""
        if self.form_command == "createWallet" or not self.wallet_currencies:
            return CURRENCIES
        return self.wallet_currencies

    async def load_form_options(self) -> None:
        """What the open form offers: the wallet currencies; access lists as they stand."""
        with contextlib.suppress(ApiError):
            self.wallet_currencies = await data.wallet_currencies(self.credential())
        if self.form_command == "saveAccessLists":
            try:
                lists = await data.access_lists(self.credential())
            except ApiError as error:
                self.error = f"access lists: {error.code}: {error.message}"
                return
            # Edited from their current contents: adding one email keeps everyone else.
            self.form_values = {
                **self.form_values,
                "allowedEmails": "\n".join(lists.allowed_emails),
                "adminEmails": "\n".join(lists.admin_emails),
            }

    async def suggest_merchants(self, value: str) -> None:
        with contextlib.suppress(ApiError):
            self.merchant_options = await data.merchant_suggestions(self.credential(), value)

    def _command(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self._commands if c["name"] == name), None)

    def open_form(self, name: str, prefill: dict[str, str] | None = None) -> Any:
        command = self._command(name)
        if command is None:
            self.form_command = ""
            self.error = f"the API has no `{name}` command"
            return None
        self.form_command = name
        self.merchant_field = str(command.get("merchantField") or "")
        self.merchant_options = []
        self.form_title = str(command["title"])
        self.form_description = str(command["description"])
        self.form_moves_money = bool(command.get("movesMoney"))
        self.form_fields = form_fields(command)
        self.form_values = {**initial_values(command), **(prefill or {})}
        self.form_errors = {f.name: "" for f in self.form_fields}
        self.has_result = False
        self.result = CommandResult()
        if name not in self._keys or self._succeeded.get(name):
            self._rotate(name)
        self.form_key = self._keys[name]
        self._refresh_hints()
        return FormState.load_form_options

    def close_form(self) -> None:
        self.form_command = ""
        self.has_result = False

    def open_prefilled(self, name: str, field: str, value: str) -> Any:
        return self.open_form(name, {field: value})

    def book_quote(self) -> Any:
        """FX: the quote just obtained → the deal form, prefilled (quoted amounts, never typed)."""
        return self.open_form("bookFxDeal", dict(self.quote_prefill))

    def _rotate(self, name: str) -> None:
        self._keys[name] = str(uuid.uuid4())
        self._succeeded[name] = False
        self.form_key = self._keys[name]

    def new_operation(self) -> None:
        """Start over with a fresh key (the same inputs may then move money again)."""
        if self.form_command:
            self._rotate(self.form_command)
            self.has_result = False

    def set_value(self, name: str, value: str) -> Any:
        if self._succeeded.get(self.form_command):
            self._rotate(self.form_command)  # a new request after a success: a new key
        self.form_values = {**self.form_values, name: value}
        self.form_errors = {**self.form_errors, name: ""}
        self._refresh_hints()
        if name == self.merchant_field and value.strip():
            return FormState.suggest_merchants(value)  # the autocomplete's options
        return None

    def set_bool(self, name: str, value: bool) -> None:
        self.set_value(name, "true" if value else "false")

    def _refresh_hints(self) -> None:
        hints: dict[str, str] = {}
        for f in self.form_fields:
            if f.kind == "amount":
                hints[f.name] = scale_hint(self.form_values.get(f.currency_field, ""))
            elif f.kind == "datetime":
                hints[f.name] = "ISO-8601 with a timezone, e.g. 2026-01-31T09:00:00+00:00"
            elif f.kind == "json":
                hints[f.name] = 'a JSON object, e.g. {"bank": "058", "account": "0123456789"}'
            elif f.kind == "emails":
                hints[f.name] = "one email per line"
            else:
                hints[f.name] = ""
            if f.help:
                own = hints[f.name] if f.kind == "amount" else ""
                hints[f.name] = f.help + (f" — {own}" if own else "")
        self.form_hints = hints

    async def submit(self) -> Any:
        command = self._command(self.form_command)
        if command is None or self.submitting:
            return
        variables, local_errors = input_variables(command, self.form_values)
        if local_errors:
            self.result_seq += 1
            self.form_errors = {**{f.name: "" for f in self.form_fields}, **local_errors}
            self.has_result = True
            self.result = CommandResult(
                ok=False, code="VALIDATION_ERROR", message="fix the fields marked below"
            )
            return
        self.submitting = True
        yield
        key = self._keys[self.form_command]
        try:
            result, field_errors = await commands.run(self.credential(), command, key, variables)
            self.quote_prefill = (
                {"merchantId": result.quote_merchant_id or str(variables.get("merchantId", "")),
                 "quoteId": result.quote_id}
                if result.ok and result.quote_id
                else {}
            )  # fmt: skip
        except ApiError as error:
            result, field_errors = (
                CommandResult(ok=False, code=error.code, message=error.message),
                {},
            )
        self.result = result
        self.result_seq += 1
        self.has_result = True
        self.form_errors = {**{f.name: "" for f in self.form_fields}, **field_errors}
        if result.ok:
            self._succeeded[self.form_command] = True
            await self.after_command()
        self.submitting = False

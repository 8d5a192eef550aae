"""Shared pieces: the layout with its nav, generic tables, the generated form and result card."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from walletflow_dashboard import navigation
from walletflow_dashboard.commands import BalanceLine, FormField
from walletflow_dashboard.data import PAGE_SIZES, FieldRow, GateRow, Table
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.navigation import Entry
from walletflow_dashboard.paging import Pager
from walletflow_dashboard.state import AppState


def _nav_link(entry: Entry) -> rx.Component:
    active = AppState.loaded_route == entry.route
    return rx.link(
        rx.button(
            entry.label,
            variant=rx.cond(active, "soft", "ghost"),
            width="100%",
            justify="start",
            class_name=rx.cond(active, "nav-active", ""),
        ),
        href=entry.route,
        id=entry.element_id,
        width="100%",
        custom_attrs={"aria-current": rx.cond(active, "page", "false")},
    )


def _nav(audience: str) -> rx.Component:
    return rx.vstack(*[_nav_link(e) for e in navigation.entries(audience)], width="100%")


def search_box() -> rx.Component:
    """Global search, on every page: Enter opens the results (or the one match)."""
    return rx.form(
        rx.input(
            placeholder="search: merchant, reference, tx id, payout id, provider ref",
            name="q",
            value=AppState.search_text,
            on_change=AppState.set_search_text,
            id="global-search",
            width="380px",
            size="2",
        ),
        on_submit=AppState.submit_search,
        reset_on_submit=False,
    )


def link_to(text: rx.Var | str, href: rx.Var | str, **props: object) -> rx.Component:
    """An id that opens its detail page."""
    return rx.link(rx.code(text, size="1"), href=href, class_name="id-link", **props)


def fields_list(rows: rx.Var[list[FieldRow]], list_id: str) -> rx.Component:
    """Labelled fields (never raw JSON)."""
    return rx.data_list.root(
        rx.foreach(
            rows,
            lambda f: rx.data_list.item(
                rx.data_list.label(f.label), rx.data_list.value(rx.text(f.value, size="2"))
            ),
        ),
        id=list_id,
        size="1",
    )


def pager_bar(
    table: str,
    pager: rx.Var[Pager],
    handlers: tuple[object, object, Callable[[str], object]] | None = None,
) -> rx.Component:
    """'51-100 of 729', previous / next, and the page size. `handlers` (previous, next,
    size(value)) default to the shared tables' `AppState.prev_page(table)` and friends."""
    if handlers is None:
        handlers = (
            AppState.prev_page(table),
            AppState.next_page(table),
            lambda v: AppState.set_page_size(table, v),
        )
    on_prev, on_next, on_size = handlers
    return rx.hstack(
        rx.text(pager.summary, size="2", id=f"{table}-range", class_name="pager-range"),
        rx.button(
            "< Previous",
            size="1",
            variant="soft",
            disabled=~pager.has_prev,
            on_click=on_prev,
            id=f"{table}-prev",
        ),
        rx.button(
            "Next >",
            size="1",
            variant="soft",
            disabled=~pager.has_next,
            on_click=on_next,
            id=f"{table}-next",
        ),
        rx.select(
            list(PAGE_SIZES),
            value=pager.size.to_string(),
            on_change=on_size,
            size="1",
            id=f"{table}-size",
        ),
        rx.text("per page", size="1", color_scheme="gray"),
        align="center",
        spacing="2",
        custom_attrs={"data-total": pager.total, "data-start": pager.start},
        id=f"{table}-pager",
    )


def export_button(table: str, on_click: object | None = None) -> rx.Component:
    """Export the whole table (all pages) as CSV."""
    return rx.button(
        "Export CSV",
        size="1",
        variant="outline",
        on_click=on_click if on_click is not None else AppState.export_table(table),
        id=f"{table}-export",
    )


def not_found(problem: rx.Var[str]) -> rx.Component:
    """A deep link to something that is not there (or a query that failed): said plainly."""
    return rx.cond(
        problem != "",
        rx.callout.root(
            rx.callout.text(problem),
            rx.link("Back to the Overview", href="/"),
            color_scheme="amber",
            id="not-found",
            width="100%",
        ),
        rx.text("Loading…", color_scheme="gray"),
    )


def empty_state(rows: rx.Var, text: str) -> rx.Component:
    return rx.cond(rows.length() == 0, rx.text(text, size="2", color_scheme="gray"))  # type: ignore[attr-defined]


def live_badge() -> rx.Component:
    badge = rx.badge(
        AppState.live_status,
        color_scheme=rx.match(
            AppState.live_status, ("live", "green"), ("offline", "gray"), "amber"
        ),
        id="live-status",
    )
    return rx.tooltip(badge, content=rx.cond(AppState.live_error != "", AppState.live_error, "ok"))


def layout(title: str, *children: rx.Component) -> rx.Component:
    """Signed-in pages: header + nav + content. Signed out: nothing but a redirect."""
    return rx.cond(
        AppState.signed_in,
        rx.hstack(
            rx.vstack(
                rx.heading("walletflow ops", size="5", id="title"),
                _nav(navigation.EVERYONE),
                rx.cond(AppState.is_merchant, rx.fragment(), _nav(navigation.BOOKS)),
                rx.cond(AppState.is_admin, _nav(navigation.ADMIN)),
                rx.spacer(),
                rx.text(AppState.subject, size="1", color_scheme="gray"),
                rx.hstack(
                    rx.badge(AppState.role, id="role-badge"),
                    live_badge(),
                ),
                rx.hstack(
                    rx.color_mode.button(id="theme-toggle"),
                    rx.button("Sign out", on_click=AppState.sign_out, variant="soft", size="1"),
                ),
                width="170px",
                min_width="170px",
                height="100vh",
                padding="1em",
                position="sticky",
                top="0",
                border_right="1px solid var(--gray-a5)",
            ),
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="6", id="page-title"),
                    rx.spacer(),
                    search_box(),
                    rx.text("updated ", AppState.last_update, size="1", color_scheme="gray"),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                rx.cond(
                    AppState.red_gates.length() > 0,  # type: ignore[attr-defined]
                    rx.callout.root(
                        rx.callout.text(
                            rx.text("RED gate: ", weight="bold"),
                            rx.foreach(
                                AppState.red_gates,
                                lambda g: rx.link(g.name, " ", href="/reconciliation#gates"),
                            ),
                            " — see Reconciliation for the cause.",
                        ),
                        color_scheme="red",
                        size="1",
                        width="100%",
                        id="red-gate-banner",
                    ),
                ),
                rx.cond(
                    AppState.error != "",
                    rx.callout.root(
                        rx.hstack(
                            rx.callout.text(AppState.error, id="load-error"),
                            rx.button(
                                "Retry",
                                size="1",
                                variant="soft",
                                on_click=rx.call_script("window.location.reload()"),
                                id="retry",
                            ),
                            align="center",
                        ),
                        color_scheme="red",
                        size="1",
                        width="100%",
                    ),
                ),
                *children,
                padding="1.2em",
                width="100%",
                min_width="0",
                max_width="1400px",
                spacing="4",
                overflow_x="auto",
            ),
            align="start",
            spacing="0",
            width="100%",
            id="shell",
            custom_attrs={"data-loaded": AppState.loaded_route},
        ),
        rx.center(rx.text("Redirecting to sign-in…"), height="100vh"),
    )


def section(heading: str, *children: rx.Component, **props: object) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(heading, size="4"), *children, spacing="3", width="100%"),
        width="100%",
        **props,
    )


def stat(
    label: str, value: rx.Var | str, stat_id: str, tone: rx.Var | str = "gray", href: str = ""
) -> rx.Component:
    """A card coloured by its threshold (`tone`: green, amber or red)."""
    card = rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="6", id=stat_id, color_scheme=tone),  # type: ignore[arg-type]
            spacing="1",
        ),
        min_width="150px",
        class_name="stat-card",
        custom_attrs={"data-tone": tone},
        style={"border_left": f"4px solid var(--{tone}-9)"} if isinstance(tone, str) else {},
    )
    return rx.link(card, href=href, underline="none") if href else card


def simple_table(
    headers: list[str], rows: rx.Var, render_row: Callable, table_id: str
) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(rx.foreach(rows, render_row)),
        id=table_id,
        size="1",
        width="100%",
    )


def generic_table(table: rx.Var[Table], table_id: str) -> rx.Component:
    """A table whose columns come from the data (discovered reporting queries)."""
    return rx.vstack(
        rx.cond(table.note != "", rx.text(table.note, size="1", color_scheme="gray")),
        rx.table.root(
            rx.table.header(
                rx.table.row(rx.foreach(table.headers, lambda h: rx.table.column_header_cell(h)))
            ),
            rx.table.body(
                rx.foreach(
                    table.rows,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda c: rx.table.cell(rx.text(c, size="1")))
                    ),
                )
            ),
            id=table_id,
            size="1",
            width="100%",
        ),
        width="100%",
        overflow_x="auto",
    )


def gate_badges(gates: rx.Var[list[GateRow]]) -> rx.Component:
    return rx.vstack(
        rx.cond(AppState.gates_note != "", rx.text(AppState.gates_note, size="1")),
        rx.foreach(
            gates,
            lambda g: rx.hstack(
                rx.badge(
                    rx.cond(g.ok, "GREEN", "RED"),
                    color_scheme=rx.cond(g.ok, "green", "red"),
                    size="2",
                ),
                rx.text(g.name, weight="bold"),
                rx.text(g.detail, size="1", color_scheme="gray"),
                class_name="gate-row",
                id=f"gate-{g.name}",
            ),
        ),
        id="gates",
        width="100%",
    )


# --- the generated form ------------------------------------------------------------------


def _field_input(field: rx.Var[FormField]) -> rx.Component:
    value = FormState.form_values[field.name]
    field_id = f"field-{field.name}"
    text_input = rx.input(
        value=value,
        on_change=lambda v: FormState.set_value(field.name, v),
        id=field_id,
        width="100%",
        # The merchant field autocompletes from the wallets (a datalist, below the form).
        list=rx.cond(field.name == FormState.merchant_field, "merchant-options", ""),
    )
    return rx.match(
        field.kind,
        (
            "currency",
            rx.select(
                FormState.currencies,
                value=value,
                on_change=lambda v: FormState.set_value(field.name, v),
                placeholder="currency",
                id=field_id,
            ),
        ),
        (
            "choice",
            rx.select(
                field.choices,
                value=value,
                on_change=lambda v: FormState.set_value(field.name, v),
                placeholder="choose",
                id=field_id,
            ),
        ),
        (
            "boolean",
            rx.switch(
                checked=value == "true",
                on_change=lambda v: FormState.set_bool(field.name, v),
                id=field_id,
            ),
        ),
        (
            "json",
            rx.text_area(
                value=value,
                on_change=lambda v: FormState.set_value(field.name, v),
                id=field_id,
                rows="3",
                width="100%",
                font_family="monospace",
            ),
        ),
        (
            "emails",
            rx.text_area(
                value=value,
                on_change=lambda v: FormState.set_value(field.name, v),
                id=field_id,
                rows="4",
                width="100%",
            ),
        ),
        text_input,
    )


def _field(field: rx.Var[FormField]) -> rx.Component:
    error = FormState.form_errors[field.name]
    hint = FormState.form_hints[field.name]
    return rx.vstack(
        rx.text(field.label, size="2", weight="medium"),
        _field_input(field),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        rx.cond(
            error != "",
            rx.text(
                error,
                size="1",
                color_scheme="red",
                class_name="field-error",
                id=f"error-{field.name}",
            ),
        ),
        spacing="1",
        width="100%",
    )


def _balance_line(line: rx.Var[BalanceLine]) -> rx.Component:
    return rx.hstack(
        rx.code(line.account, size="1"),
        rx.text(line.formatted, weight="bold", class_name="post-balance"),
    )


def result_card() -> rx.Component:
    r = FormState.result
    success = rx.callout.root(
        rx.vstack(
            rx.hstack(
                rx.badge(r.status, color_scheme="green", id="result-status"),
                rx.text(r.command, weight="bold"),
                rx.cond(r.replayed, rx.badge("replayed", color_scheme="blue", id="replayed")),
            ),
            rx.cond(
                r.reference != "",
                rx.text("reference: ", rx.code(r.reference, id="result-reference"), size="2"),
            ),
            rx.cond(
                r.transaction_id != "",
                rx.text("transaction: ", rx.code(r.transaction_id, id="result-tx"), size="2"),
                rx.text("no ledger transaction", size="1", color_scheme="gray"),
            ),
            rx.foreach(r.balances, _balance_line),
            rx.cond(
                r.data != "",
                rx.box(
                    rx.text(r.data, size="1"),
                    white_space="pre-wrap",
                    font_family="monospace",
                    padding="0.5em",
                    border_radius="6px",
                    background="var(--gray-a3)",
                    class_name="result-data",
                ),
            ),
            rx.cond(
                FormState.quote_prefill.length() > 0,  # type: ignore[attr-defined]
                rx.button("Book this quote", on_click=FormState.book_quote, id="book-quote"),
            ),
            spacing="1",
        ),
        color_scheme="green",
        id="result-card",
        class_name="result-success",
        width="100%",
    )
    failure = rx.callout.root(
        rx.vstack(
            rx.badge(r.code, color_scheme="red", id="result-code"),
            rx.text(r.message, id="result-message"),
            spacing="1",
        ),
        color_scheme="red",
        id="result-card",
        class_name="result-error",
        width="100%",
    )
    return rx.cond(FormState.has_result, rx.cond(r.ok, success, failure))


def command_form() -> rx.Component:
    """The active command's form (empty until one is picked)."""
    return rx.cond(
        FormState.form_command != "",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.heading(FormState.form_title, size="4", id="form-title"),
                    rx.cond(FormState.form_moves_money, rx.badge("moves money")),
                    rx.spacer(),
                    rx.code(FormState.form_command, size="1"),
                ),
                rx.text(FormState.form_description, size="2", color_scheme="gray"),
                rx.grid(
                    rx.foreach(FormState.form_fields, _field),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.el.datalist(
                    rx.foreach(FormState.merchant_options, lambda m: rx.el.option(value=m)),
                    id="merchant-options",
                ),
                rx.hstack(
                    rx.button(
                        "Submit",
                        on_click=FormState.submit,
                        loading=FormState.submitting,
                        id="submit-command",
                    ),
                    rx.button(
                        "New operation",
                        on_click=FormState.new_operation,
                        variant="soft",
                        id="new-operation",
                    ),
                    rx.text(
                        "idempotency key ",
                        rx.code(FormState.form_key, size="1", id="form-key"),
                        size="1",
                    ),
                    align="center",
                ),
                result_card(),
                spacing="3",
                width="100%",
            ),
            width="100%",
            id="command-form",
            custom_attrs={"data-seq": FormState.result_seq},
        ),
    )


def form_button(label: str, command: str, **props: object) -> rx.Component:
    return rx.button(label, on_click=FormState.open_form(command, {}), variant="soft", **props)

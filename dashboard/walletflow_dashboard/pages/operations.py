"""Operations: a generated form for every registry command the caller may run, by group."""

from __future__ import annotations

import reflex as rx

from walletflow_dashboard import navigation
from walletflow_dashboard.commands import CommandBrief, CommandGroup
from walletflow_dashboard.components import command_form, layout
from walletflow_dashboard.forms import FormState
from walletflow_dashboard.state import AppState

ROUTE = "/operations"
NAV = navigation.Nav("Operations", navigation.EVERYONE)
ON_LOAD = [AppState.guard]


def command_button(command: rx.Var[CommandBrief]) -> rx.Component:
    return rx.button(
        command.title,
        on_click=FormState.open_form(command.name, {}),
        variant=rx.cond(FormState.form_command == command.name, "solid", "soft"),
        size="1",
        id=f"cmd-{command.name}",
        title=command.description,
    )


def group_block(group: rx.Var[CommandGroup]) -> rx.Component:
    return rx.vstack(
        rx.text(group.group, size="1", weight="bold", color_scheme="gray", class_name="group"),
        rx.flex(rx.foreach(group.commands, command_button), wrap="wrap", spacing="2"),
        spacing="1",
        width="100%",
    )


def page() -> rx.Component:
    return layout(
        "Operations",
        rx.cond(
            AppState.command_groups.length() == 0,
            rx.text("This role may run no commands (read-only)."),
        ),
        rx.hstack(
            rx.vstack(
                rx.foreach(AppState.command_groups, group_block),
                width="340px",
                min_width="340px",
                spacing="3",
            ),
            rx.box(command_form(), width="100%"),
            align="start",
            width="100%",
            spacing="4",
        ),
    )

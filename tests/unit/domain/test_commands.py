"""Commands are plain immutable requests: frozen, integer minor units named `*_minor`, no floats."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from walletflow.domain import commands

COMMAND_TYPES = [
    value
    for _, value in inspect.getmembers(commands, inspect.isclass)
    if dataclasses.is_dataclass(value) and value.__module__ == commands.__name__
]
AMOUNT_WORDS = ("amount", "fee", "vat")


def test_there_is_a_command_per_registry_entry_to_check() -> None:
    assert len(COMMAND_TYPES) >= 20


@pytest.mark.parametrize("command_type", COMMAND_TYPES, ids=lambda t: t.__name__)
def test_a_command_is_frozen(command_type: type) -> None:
    params = command_type.__dataclass_params__
    assert params.frozen


@pytest.mark.parametrize("command_type", COMMAND_TYPES, ids=lambda t: t.__name__)
def test_a_commands_amounts_are_int_minor_units_and_nothing_is_a_float(
    command_type: type,
) -> None:
    hints = typing.get_type_hints(command_type)
    for field in dataclasses.fields(command_type):
        hint = hints[field.name]
        assert float not in (hint, *typing.get_args(hint)), field.name
        if field.name.endswith("_minor"):
            assert hint is int, field.name
        elif any(word in field.name for word in AMOUNT_WORDS):
            raise AssertionError(f"{command_type.__name__}.{field.name} must end in _minor")

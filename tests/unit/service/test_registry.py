"""The command registry: who may run what (every role against every permission), and what every
declaration must say."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import pytest

from walletflow.domain.errors import Forbidden, NotFound
from walletflow.domain.principals import SYSTEM_SAGA, Principal, Role
from walletflow.service.catalog import build_registry
from walletflow.service.fields import FieldKind, FieldSpec
from walletflow.service.registry import (
    CommandGroup,
    CommandSpec,
    Permission,
    Registry,
    authorize,
)

REGISTRY = build_registry()
SPECS = list(REGISTRY)


@dataclass(frozen=True)
class _Echo:
    merchant_id: str


async def _handler(command: Any, uow: Any) -> Any:
    raise AssertionError("never run")


def spec(permission: Permission, name: str = "echo") -> CommandSpec:
    return CommandSpec(
        name=name,
        title="Echo",
        description="a test command",
        group=CommandGroup.WALLET,
        command_type=_Echo,
        fields=(FieldSpec("merchant_id", FieldKind.ID, "Merchant"),),
        permission=permission,
        handler=_handler,
        merchant_field="merchant_id" if permission is Permission.MERCHANT else None,
    )


PRINCIPALS = {
    Role.ADMIN: Principal(Role.ADMIN, "admin@x.io"),
    Role.OPERATOR: Principal(Role.OPERATOR, "ops@x.io"),
    Role.MERCHANT: Principal(Role.MERCHANT, "key_1", merchant_id="m1"),
    Role.ANALYST: Principal(Role.ANALYST, "analyst@x.io"),
    Role.SYSTEM: SYSTEM_SAGA,
}
# (permission, role) → may run it on merchant m1's wallet / on merchant m2's wallet
ALLOWED: dict[tuple[Permission, Role], tuple[bool, bool]] = {
    (Permission.MERCHANT, Role.ADMIN): (True, True),
    (Permission.MERCHANT, Role.OPERATOR): (True, True),
    (Permission.MERCHANT, Role.SYSTEM): (True, True),
    (Permission.MERCHANT, Role.MERCHANT): (True, False),
    (Permission.MERCHANT, Role.ANALYST): (False, False),
    (Permission.OPERATOR, Role.ADMIN): (True, True),
    (Permission.OPERATOR, Role.OPERATOR): (True, True),
    (Permission.OPERATOR, Role.SYSTEM): (True, True),
    (Permission.OPERATOR, Role.MERCHANT): (False, False),
    (Permission.OPERATOR, Role.ANALYST): (False, False),
    (Permission.ADMIN, Role.ADMIN): (True, True),
    (Permission.ADMIN, Role.SYSTEM): (True, True),
    (Permission.ADMIN, Role.OPERATOR): (False, False),
    (Permission.ADMIN, Role.MERCHANT): (False, False),
    (Permission.ADMIN, Role.ANALYST): (False, False),
}


def test_the_matrix_covers_every_permission_and_role() -> None:
    assert set(ALLOWED) == {(permission, role) for permission in Permission for role in Role}


@pytest.mark.parametrize(("permission", "role"), sorted(ALLOWED))
@pytest.mark.parametrize("merchant_id", ["m1", "m2"])
def test_who_may_run_a_command(permission: Permission, role: Role, merchant_id: str) -> None:
    own, others = ALLOWED[(permission, role)]
    allowed = own if merchant_id == "m1" else others
    run = spec(permission)
    if allowed:
        authorize(run, PRINCIPALS[role], {"merchant_id": merchant_id})
    else:
        with pytest.raises(Forbidden):
            authorize(run, PRINCIPALS[role], {"merchant_id": merchant_id})


def test_a_declaration_must_match_its_command_and_name_its_merchant_field() -> None:
    with pytest.raises(AssertionError):
        replace(spec(Permission.OPERATOR), fields=())
    with pytest.raises(AssertionError):
        replace(spec(Permission.MERCHANT), merchant_field=None)


def test_a_registry_refuses_two_commands_of_one_name_and_unknown_names() -> None:
    with pytest.raises(AssertionError):
        Registry((spec(Permission.ADMIN), spec(Permission.OPERATOR)))
    registry = Registry((spec(Permission.ADMIN, "a"), spec(Permission.ADMIN, "b")))
    assert registry.names() == ["a", "b"] and len(registry) == 2
    with pytest.raises(NotFound):
        registry.get("c")


# --- the real catalog -----------------------------------------------------------------------
DESIGNED_COMMANDS = {
    "createWallet", "postPayin", "transfer", "reservePayout", "settleHold", "releaseHold",
    "markPayoutManualReview", "fxQuote", "bookFxDeal", "bookCounterpartyTrade",
    "stablecoinOnramp", "stablecoinOfframp", "topUpGpsPool", "gpsCrossCurrencyPayout",
    "fundBankAccount", "postOpeningBalance", "holdRollingReserve", "releaseRollingReserve",
    "postCorrection", "reverse", "setFeatureFlag", "rebuildTemplates", "rebuildCoa",
    "rebuildStatements", "saveAccessLists", "migrateWallet",
}  # fmt: skip


def test_every_designed_command_is_declared() -> None:
    assert set(REGISTRY.names()) >= DESIGNED_COMMANDS


@pytest.mark.parametrize("declared", SPECS, ids=lambda s: s.name)
def test_a_command_name_is_camel_case(declared: CommandSpec) -> None:
    assert re.fullmatch(r"[a-z][a-zA-Z0-9]*", declared.name)


def test_each_command_type_is_declared_once() -> None:
    types = [declared.command_type for declared in SPECS]
    assert len(types) == len(set(types))


@pytest.mark.parametrize("declared", SPECS, ids=lambda s: s.name)
def test_every_amount_is_in_a_currency_declared_beside_it(declared: CommandSpec) -> None:
    kinds = {field.name: field.kind for field in declared.fields}
    for field in declared.fields:
        if field.kind is FieldKind.AMOUNT:
            assert kinds.get(field.currency_field) is FieldKind.CURRENCY, field.name


@pytest.mark.parametrize("declared", SPECS, ids=lambda s: s.name)
def test_a_merchant_command_checks_an_id_field(declared: CommandSpec) -> None:
    if declared.permission is Permission.MERCHANT:
        kinds = {field.name: field.kind for field in declared.fields}
        assert kinds[str(declared.merchant_field)] is FieldKind.ID


@pytest.mark.parametrize("name", ["settleHold", "releaseHold", "markPayoutManualReview"])
def test_payout_completions_take_no_amount_and_are_for_operators(name: str) -> None:
    declared = REGISTRY.get(name)
    assert all(field.kind is not FieldKind.AMOUNT for field in declared.fields)
    assert declared.permission is Permission.OPERATOR


@pytest.mark.parametrize("declared", SPECS, ids=lambda s: s.name)
def test_admin_commands_move_no_money(declared: CommandSpec) -> None:
    if declared.group is CommandGroup.ADMIN:
        assert declared.permission is Permission.ADMIN
        assert not declared.moves_money and declared.template is None

"""The command registry: one declaration per command, the single source the GraphQL mutations,
the dashboard forms and `walletflow cmd` are generated from.

An entry declares its name, fields (input type + validation), permission, the Numscript
template it runs (if any) and its handler. Adding an entry adds the mutation, the form and the
CLI command with no other code.

It is also the authority matrix (README "Authority matrix", pinned by
tests/unit/service/test_authority_matrix.py): who may run each command (`permission`), whether
a person's entry needs a second person (`four_eyes`, the default maker-checker policy), whether
it is a provider fact (`provider_only`) and whether a provider's signed webhook runs it
(`from_provider`). Merchants never create value: they move only money they already have.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from walletflow.domain.errors import Forbidden, NotFound
from walletflow.domain.principals import Principal, Role
from walletflow.service.fields import FieldSpec

if TYPE_CHECKING:
    from walletflow.service.results import CommandResult
    from walletflow.service.unit_of_work import UnitOfWork


class Permission(StrEnum):
    MERCHANT = "merchant"
    """Merchants for their own merchant id (see `merchant_field`), and operators/admins."""
    OPERATOR = "operator"
    """Operators and admins (and walletflow itself)."""
    ADMIN = "admin"
    """Admins only."""


class CommandGroup(StrEnum):
    WALLET = "wallet"
    MONEY = "money"
    PAYOUT = "payout"
    TREASURY = "treasury"
    CORRECTION = "correction"
    ADMIN = "admin"


class Authority(StrEnum):
    NONE = "none"
    FOUR_EYES = "four_eyes"


Handler = Callable[[Any, "UnitOfWork"], Awaitable["CommandResult"]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    """camelCase, as the GraphQL mutation is named: `postPayin`."""
    title: str
    description: str
    group: CommandGroup
    command_type: type
    fields: tuple[FieldSpec, ...]
    permission: Permission
    handler: Handler
    template: str | None = None
    merchant_field: str | None = None
    """For Permission.MERCHANT: the field a merchant's own id must be in."""
    moves_money: bool = True
    four_eyes: bool = False
    """The default maker-checker policy: when a person enters this command, a second person
    approves it (the approval policy may override it per command and add thresholds). Set on
    every command whose postings take money from world, a bank, a provider, a GPS pool,
    custody, an FX position, a counterparty or suspense on amounts a person types in."""
    provider_only: bool = False
    """A provider fact: it arrives by the provider's signed webhook; staff may enter it only
    under four eyes; a merchant never may."""
    from_provider: bool = False
    """A provider's signed webhook runs this command (as `provider:<name>`); a provider principal
    runs nothing else."""

    def __post_init__(self) -> None:
        attributes = {spec.command_attribute for spec in self.fields}
        declared = {field.name for field in fields(self.command_type)}
        assert attributes == declared, (
            f"{self.name}: fields {sorted(attributes)} != {self.command_type.__name__} "
            f"{sorted(declared)}"
        )
        if self.permission is Permission.MERCHANT:
            assert self.merchant_field in {spec.name for spec in self.fields}, self.name
            # Merchants never create value: nothing a merchant may run is a provider fact or
            # needs a second person.
            assert not (self.provider_only or self.four_eyes), self.name
        if self.provider_only:
            assert self.four_eyes and self.from_provider, self.name

    @property
    def authority(self) -> Authority:
        return Authority.FOUR_EYES if self.four_eyes else Authority.NONE

    def build(self, values: Mapping[str, Any]) -> Any:
        return self.command_type(**values)


def _refusal(spec: CommandSpec, principal: Principal) -> str | None:
    """Why `principal` may not run `spec` at all, or None when it may (a merchant still only on
    its own merchant id, a provider only for itself: see `authorize`)."""
    role = principal.role
    if role is Role.ANALYST:
        return "analysts have read-only access"
    if principal.provider is not None:
        return None if spec.from_provider else f"{spec.name} is not a provider's command"
    if role is Role.MERCHANT and (spec.provider_only or spec.four_eyes):
        return (
            f"{spec.name} is not for merchants: merchants move only money they already have "
            "(a pay-in arrives from the provider, or is entered by staff under four eyes)"
        )
    if spec.permission is Permission.ADMIN:
        return None if principal.is_admin else f"{spec.name} needs the admin role"
    if spec.permission is Permission.OPERATOR:
        return None if principal.is_staff else f"{spec.name} is for operators"
    if role is Role.MERCHANT or principal.is_staff:
        return None
    return f"{spec.name} is not allowed for role {role.value}"


def may_run(spec: CommandSpec, principal: Principal) -> bool:
    """Whether `principal` may run `spec` at all (the command metadata, forms, the matrix)."""
    return _refusal(spec, principal) is None


def authorize(spec: CommandSpec, principal: Principal, values: Mapping[str, Any]) -> None:
    """Raise `Forbidden` unless `principal` may run `spec` with these values."""
    refusal = _refusal(spec, principal)
    if refusal is not None:
        raise Forbidden(refusal)
    provider = principal.provider
    if provider is not None and values.get("provider", provider) != provider:
        raise Forbidden(f"{spec.name}: a provider speaks only for itself")
    if principal.role is Role.MERCHANT:
        assert spec.merchant_field is not None
        if values.get(spec.merchant_field) != principal.merchant_id:
            raise Forbidden(f"{spec.name}: merchants act only on their own wallets")


class Registry:
    def __init__(self, specs: tuple[CommandSpec, ...]) -> None:
        names = [spec.name for spec in specs]
        assert len(names) == len(set(names)), "duplicate command names"
        self._specs = {spec.name: spec for spec in specs}

    def get(self, name: str) -> CommandSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise NotFound(f"unknown command {name!r}") from None

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return list(self._specs)

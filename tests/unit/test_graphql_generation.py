"""Mutations are generated from the registry: a new entry is a new mutation, with no other code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    parse,
)
from graphql import build_schema as gql_build_schema

from walletflow.api.graphql.limits import FIELD_WEIGHTS, QueryLimits, measure_document
from walletflow.api.graphql.schema import build_schema
from walletflow.config import Settings
from walletflow.service.catalog import build_registry
from walletflow.service.fields import FieldKind, FieldSpec
from walletflow.service.registry import CommandGroup, CommandSpec, Permission, Registry
from walletflow.service.results import CommandResult


@dataclass(frozen=True)
class GiftVoucher:
    merchant_id: str
    currency: str
    amount_minor: int
    expires_at: Any
    note: str | None
    tags: tuple[str, ...] | None
    count: int | None
    extra: dict[str, Any] | None
    urgent: bool | None
    tier: str | None


async def _handler(command: Any, uow: Any) -> CommandResult:
    return CommandResult(command="issueGiftVoucher", status="completed")


EXTRA = CommandSpec(
    name="issueGiftVoucher",
    title="Issue gift voucher",
    description="A command that exists only in this test.",
    group=CommandGroup.MONEY,
    command_type=GiftVoucher,
    fields=(
        FieldSpec("merchant_id", FieldKind.ID, "Merchant"),
        FieldSpec("currency", FieldKind.CURRENCY, "Currency"),
        FieldSpec("amount", FieldKind.AMOUNT, "Amount"),
        FieldSpec("expires_at", FieldKind.DATETIME, "Expires at"),
        FieldSpec("note", FieldKind.TEXT, "Note", required=False),
        FieldSpec("tags", FieldKind.EMAILS, "Notify", required=False),
        FieldSpec("count", FieldKind.INTEGER, "Count", required=False),
        FieldSpec("extra", FieldKind.JSON, "Extra", required=False),
        FieldSpec("urgent", FieldKind.BOOLEAN, "Urgent", required=False),
        FieldSpec("tier", FieldKind.CHOICE, "Tier", required=False, choices=("gold", "silver")),
    ),
    permission=Permission.MERCHANT,
    merchant_field="merchant_id",
    handler=_handler,
)


def _sdl_schema(registry: Registry) -> GraphQLSchema:
    return gql_build_schema(build_schema(registry, Settings()).as_str())


def test_a_new_registry_entry_adds_its_mutation_input_and_result_union() -> None:
    schema = _sdl_schema(Registry((*build_registry(), EXTRA)))
    assert schema.mutation_type is not None
    mutation = schema.mutation_type.fields["issueGiftVoucher"]
    assert str(mutation.type) == "IssueGiftVoucherResult!"
    assert {name: str(arg.type) for name, arg in mutation.args.items()} == {
        "idempotencyKey": "String!",
        "input": "IssueGiftVoucherInput!",
    }
    input_type = schema.get_type("IssueGiftVoucherInput")
    assert isinstance(input_type, GraphQLInputObjectType)
    assert {name: str(field.type) for name, field in input_type.fields.items()} == {
        "merchantId": "String!",
        "currency": "String!",
        "amount": "Amount!",
        "expiresAt": "DateTime!",
        "note": "String",
        "tags": "[String!]",
        "count": "BigInt",
        "extra": "JSON",
        "urgent": "Boolean",
        "tier": "String",
    }
    union = schema.get_type("IssueGiftVoucherResult")
    assert isinstance(union, GraphQLUnionType)
    members = {member.name for member in union.types}
    assert {
        "CommandSuccess",
        "ValidationError",
        "InsufficientFunds",
        "FlagDenied",
        "IdempotencyKeyReused",
        "NotFound",
        "Forbidden",
        "Conflict",
        "IllegalState",
        "Unavailable",
    } <= members


def test_the_real_schema_has_no_extra_command() -> None:
    schema = _sdl_schema(build_registry())
    assert schema.mutation_type is not None
    assert "issueGiftVoucher" not in schema.mutation_type.fields


def test_every_registry_command_is_a_mutation() -> None:
    registry = build_registry()
    schema = _sdl_schema(registry)
    assert schema.mutation_type is not None
    names = set(schema.mutation_type.fields)
    assert set(registry.names()) | {"createApiKey", "revokeApiKey"} == names


def test_cost_multiplies_by_page_sizes() -> None:
    document = parse(
        "query Q { wallets(first: 100) { edges { node { merchantId currency } } } me { role } }"
    )
    schema = build_schema(build_registry(), Settings())._schema
    measure = measure_document(document, schema, QueryLimits.from_settings(Settings()))
    # wallets (its weight) + edges 100 + node 100 + 2 fields x 100 + me 1 + role 1
    wallets = FIELD_WEIGHTS[("Query", "wallets")]
    assert (measure.operation, measure.cost) == ("Q", wallets + 100 + 100 + 200 + 1 + 1)

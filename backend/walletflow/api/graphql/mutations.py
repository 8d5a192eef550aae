"""Mutations GENERATED from the command registry: one per `CommandSpec`, nothing by hand.

For `postPayin` this builds `input PostPayinInput { merchantId: String! … }`, the union
`PostPayinResult = CommandSuccess | ValidationError | InsufficientFunds | …` and
`postPayin(input: PostPayinInput!, idempotencyKey: String!): PostPayinResult!`, whose resolver
hands the input to the command bus unchanged. Adding a registry entry adds its mutation.
Admin mutations outside the money registry (API keys) are declared here by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Union, cast

import strawberry
from strawberry.types.field import StrawberryField

from walletflow.api.auth import api_keys
from walletflow.api.graphql.context import GraphQLContext, Info
from walletflow.api.graphql.errors import ERROR_TYPES, ErrorBase, to_graphql_error
from walletflow.api.graphql.scalars import JSON, Amount, BigInt
from walletflow.api.graphql.types import ApiKeyInfo, Balance, CreatedApiKey
from walletflow.api.rate_limiter import RateKind
from walletflow.api.rate_limits import record_refusal
from walletflow.domain.errors import ValidationError, WalletflowError
from walletflow.service.fields import FieldKind, FieldSpec
from walletflow.service.registry import CommandSpec, Registry
from walletflow.service.results import CommandOutcome

GRAPHQL_TYPES: dict[FieldKind, Any] = {
    FieldKind.ID: str,
    FieldKind.CURRENCY: str,
    FieldKind.AMOUNT: Amount,
    FieldKind.TEXT: str,
    FieldKind.CHOICE: str,
    FieldKind.DATETIME: datetime,
    FieldKind.BOOLEAN: bool,
    FieldKind.INTEGER: BigInt,
    FieldKind.JSON: JSON,
    FieldKind.EMAILS: list[str],
}

KEY_HELP = (
    "1-200 printable ASCII characters; a retry with the same key and input returns the first "
    "result, another input under the same key is refused (IDEMPOTENCY_KEY_REUSED)"
)

GRAPHQL_TYPE_NAMES: dict[FieldKind, str] = {
    FieldKind.ID: "String",
    FieldKind.CURRENCY: "String",
    FieldKind.AMOUNT: "Amount",
    FieldKind.TEXT: "String",
    FieldKind.CHOICE: "String",
    FieldKind.DATETIME: "DateTime",
    FieldKind.BOOLEAN: "Boolean",
    FieldKind.INTEGER: "BigInt",
    FieldKind.JSON: "JSON",
    FieldKind.EMAILS: "[String!]",
}


@strawberry.type(description="A command ran (or, with `replayed`, had run with this key).")
class CommandSuccess:
    command: str
    status: str
    reference: str | None
    transaction_id: BigInt | None
    replayed: bool
    balances: list[Balance]
    data: JSON


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def is_required(spec: FieldSpec) -> bool:
    return spec.required and spec.default is None


def success(outcome: CommandOutcome) -> CommandSuccess:
    result = outcome.result
    return CommandSuccess(
        command=result.command,
        status=result.status,
        reference=result.reference,
        transaction_id=None if result.transaction_id is None else BigInt(result.transaction_id),
        replayed=outcome.replayed,
        balances=[
            Balance(
                account=line.account, asset=line.asset, balance_minor=BigInt(line.balance_minor)
            )
            for line in result.balances
        ],
        data=JSON(result.data),
    )


async def limit_money_commands(context: GraphQLContext, command: str) -> None:
    """`RateLimited` once the caller ran more money commands this minute than its limit."""
    verdict = await context.state.rate_limiter.hit(RateKind.MONEY, context.principal)
    if not verdict.allowed:
        container = context.container
        await record_refusal(
            container.engine,
            context.principal,
            RateKind.MONEY,
            verdict,
            container.clock.now(),
            command=command,
        )
        raise verdict.error(RateKind.MONEY)


def input_type(spec: CommandSpec) -> type:
    """`<Name>Input`: one field per FieldSpec, camelCase, typed by kind."""
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for field_spec in spec.fields:
        graphql_type = GRAPHQL_TYPES[field_spec.kind]
        description = field_spec.label + (f" ({field_spec.help})" if field_spec.help else "")
        if field_spec.choices:
            description += f"; one of: {', '.join(field_spec.choices)}"
        if is_required(field_spec):
            annotations[field_spec.name] = graphql_type
            defaults[field_spec.name] = strawberry.field(description=description)
        else:
            annotations[field_spec.name] = graphql_type | None
            defaults[field_spec.name] = strawberry.field(default=None, description=description)
    namespace: dict[str, Any] = {"__annotations__": annotations, **defaults}
    cls = type(f"{pascal(spec.name)}Input", (), namespace)
    return strawberry.input(cls, description=f"Input of {spec.name}: {spec.description}")


def result_union(name: str, success_type: type) -> Any:
    members = (success_type, *ERROR_TYPES)
    return Annotated[Union[members], strawberry.union(f"{pascal(name)}Result")]  # noqa: UP007


def command_mutation(spec: CommandSpec) -> StrawberryField:
    """The mutation for one registry command (no `input` argument when it has no fields)."""
    names = [field_spec.name for field_spec in spec.fields]

    async def resolve(info: Info, idempotency_key: str, input_: Any = None) -> Any:
        raw = {name: getattr(input_, name) for name in names} if input_ is not None else {}
        raw = {name: value for name, value in raw.items() if value is not None}
        context = info.context
        try:
            if spec.moves_money:
                await limit_money_commands(context, spec.name)
            outcome = await context.container.bus.execute(
                spec.name, raw, context.principal, idempotency_key
            )
        except WalletflowError as error:
            return to_graphql_error(error)
        return success(outcome)

    annotations: dict[str, Any] = {
        "info": Info,
        "idempotency_key": Annotated[str, strawberry.argument(description=KEY_HELP)],
        "return": result_union(spec.name, CommandSuccess),
    }
    if spec.fields:
        annotations["input_"] = Annotated[input_type(spec), strawberry.argument(name="input")]
    else:
        # No input: drop the parameter so the mutation takes only the key.
        async def resolve_without_input(info: Info, idempotency_key: str) -> Any:
            return await resolve(info, idempotency_key)

        resolve_without_input.__name__ = spec.name
        resolve_without_input.__annotations__ = annotations
        return cast(
            StrawberryField,
            strawberry.mutation(
                resolver=resolve_without_input, name=spec.name, description=spec.description
            ),
        )
    resolve.__name__ = spec.name
    resolve.__annotations__ = annotations
    return cast(
        StrawberryField,
        strawberry.mutation(resolver=resolve, name=spec.name, description=spec.description),
    )


def _guarded(
    work: Callable[[], Awaitable[CreatedApiKey | ApiKeyInfo]],
) -> Awaitable[CreatedApiKey | ApiKeyInfo | ErrorBase]:
    async def run() -> CreatedApiKey | ApiKeyInfo | ErrorBase:
        try:
            return await work()
        except WalletflowError as error:
            return to_graphql_error(error)

    return run()


def key_info(key: api_keys.ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=key.key_id,
        role=key.role.value,
        merchant_id=key.merchant_id,
        label=key.label,
        created_by=key.created_by,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


async def create_api_key(
    info: Info,
    role: str,
    merchant_id: str | None = None,
    label: str = "",
    expires_at: datetime | None = None,
) -> CreatedApiKey | ApiKeyInfo | ErrorBase:
    """Admins: create a merchant (scoped to `merchantId`) or analyst (read-only) API key."""
    context = info.context

    async def work() -> CreatedApiKey:
        context.visibility.require_admin()
        try:
            key_role = api_keys.ApiKeyRole(role)
        except ValueError:
            raise ValidationError(
                "role must be merchant or analyst", field_errors={"role": "merchant|analyst"}
            ) from None
        async with context.container.engine.begin() as connection:
            created = await api_keys.create_api_key(
                connection,
                role=key_role,
                merchant_id=merchant_id,
                label=label,
                created_by=context.principal.subject,
                now=context.container.clock.now(),
                expires_at=expires_at,
            )
        return CreatedApiKey(key=key_info(created.key), token=created.token)

    return await _guarded(work)


async def revoke_api_key(info: Info, key_id: str) -> CreatedApiKey | ApiKeyInfo | ErrorBase:
    """Admins: revoke an API key at once (idempotent)."""
    context = info.context

    async def work() -> ApiKeyInfo:
        context.visibility.require_admin()
        async with context.container.engine.begin() as connection:
            key = await api_keys.revoke_api_key(connection, key_id, context.container.clock.now())
        return key_info(key)

    return await _guarded(work)


create_api_key.__annotations__["return"] = result_union("createApiKey", CreatedApiKey)
revoke_api_key.__annotations__["return"] = result_union("revokeApiKey", ApiKeyInfo)


def mutation_fields(registry: Registry) -> list[StrawberryField]:
    fields = [command_mutation(spec) for spec in registry]
    for resolver, name in ((create_api_key, "createApiKey"), (revoke_api_key, "revokeApiKey")):
        fields.append(cast(StrawberryField, strawberry.mutation(resolver=resolver, name=name)))
    return fields

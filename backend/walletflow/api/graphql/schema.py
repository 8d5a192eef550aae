"""The schema, built from a command registry and the settings' limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import create_type, merge_types

from walletflow.api.graphql.limits import cost_limit_rule
from walletflow.api.graphql.mutations import mutation_fields
from walletflow.api.graphql.queries import Query
from walletflow.api.graphql.reporting import ReportingQuery
from walletflow.api.graphql.scalars import SCALAR_MAP
from walletflow.api.graphql.subscriptions import Subscription
from walletflow.config import Settings
from walletflow.domain.errors import WalletflowError
from walletflow.service.registry import Registry


class ErrorCodes(SchemaExtension):
    """Put a typed error's stable code (and retryable) into the GraphQL error's extensions."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        for error in getattr(result, "errors", None) or []:
            original = error.original_error
            if isinstance(original, WalletflowError):
                error.extensions = {
                    **(error.extensions or {}),
                    "code": original.code,
                    "retryable": original.retryable,
                    **({"details": original.details} if original.details else {}),
                }


def _should_mask(error: GraphQLError) -> bool:
    """Hide unexpected failures inside resolvers; keep typed errors and input problems (a bad
    scalar value is reported at validation, with no path)."""
    original = error.original_error
    if original is None or error.path is None:
        return False
    return not isinstance(original, WalletflowError | GraphQLError)


def build_schema(registry: Registry, settings: Settings) -> strawberry.Schema:
    query = merge_types("Query", (Query, ReportingQuery))
    mutation = create_type("Mutation", mutation_fields(registry))
    max_depth = settings.graphql_max_depth
    cost_rule = cost_limit_rule(settings.graphql_max_cost)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: AddValidationRules([cost_rule]),
        ErrorCodes,
        lambda: MaskErrors(should_mask_error=_should_mask),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )

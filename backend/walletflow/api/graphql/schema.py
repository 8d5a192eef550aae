"""The schema, built from a command registry and the settings' limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import create_type, merge_types
from strawberry.types import ExecutionContext

from walletflow.api.graphql.console import ConsoleQuery
from walletflow.api.graphql.limits import cost_limit_rule
from walletflow.api.graphql.mutations import mutation_fields
from walletflow.api.graphql.operations import OperationsQuery
from walletflow.api.graphql.queries import Query
from walletflow.api.graphql.reporting import ReportingQuery
from walletflow.api.graphql.scalars import SCALAR_MAP
from walletflow.api.graphql.subscriptions import Subscription
from walletflow.config import Settings
from walletflow.db.errors import database_error
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


PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_ERROR = "INTERNAL_ERROR"


class TypedErrors(MaskErrors):
    """Mask unexpected resolver failures, as `INTERNAL_ERROR`."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_ERROR, "retryable": False}
        return masked


class WalletflowSchema(strawberry.Schema):
    """Every GraphQL error a client sees carries `extensions.code`: a typed error its stable
    code (see `ErrorCodes`), a database failure that is not a bug its typed error (`UNAVAILABLE`
    when unreachable, `VALIDATION_ERROR` for a value it cannot store, such as a NUL character),
    a syntax error `GRAPHQL_PARSE_FAILED`, a document or variable the schema refuses
    `GRAPHQL_VALIDATION_FAILED`. Strawberry passes every error through `process_errors` (before
    masking), including parse errors raised outside the execution hooks."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if (error.extensions or {}).get("code"):
                continue
            original = error.original_error
            if original is not None and not isinstance(original, WalletflowError):
                typed = database_error(original)
                if typed is not None:  # typed now: not masked, and its message is ours
                    error.original_error, error.message = typed, typed.message
                    original = typed
            if isinstance(original, WalletflowError):
                code, retryable = original.code, original.retryable
            elif isinstance(error, GraphQLSyntaxError):
                code, retryable = PARSE_FAILED, False
            elif error.path is None:
                code, retryable = VALIDATION_FAILED, False
            else:
                code, retryable = INTERNAL_ERROR, False
            error.extensions = {**(error.extensions or {}), "code": code, "retryable": retryable}
        super().process_errors(errors, execution_context)


def _should_mask(error: GraphQLError) -> bool:
    """Hide unexpected failures inside resolvers; keep typed errors and input problems (a bad
    scalar value is reported at validation, with no path)."""
    original = error.original_error
    if original is None or error.path is None:
        return False
    return not isinstance(original, WalletflowError | GraphQLError)


DOCUMENT_CACHE_SIZE = 1024


def build_schema(registry: Registry, settings: Settings) -> strawberry.Schema:
    query = merge_types("Query", (Query, ReportingQuery, OperationsQuery, ConsoleQuery))
    mutation = create_type("Mutation", mutation_fields(registry))
    max_depth = settings.graphql_max_depth
    cost_rule = cost_limit_rule(settings.graphql_max_cost)
    # The rule classes are built once, so a validation result can be cached per document.
    depth_rule = create_depth_validator(max_depth, should_ignore=None)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        # Clients send the same few documents over and over: parse and validate each once
        # (bounded LRU caches). The depth and cost rules are added BEFORE the validation
        # cache runs, so a cached result is always a result of validating with them.
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules([depth_rule, cost_rule]),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        ErrorCodes,
        lambda: TypedErrors(should_mask_error=_should_mask),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    return WalletflowSchema(
        query=query,
        mutation=mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )

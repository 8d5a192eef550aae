"""The schema, built from a command registry and the settings' limits."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import DisableIntrospection, MaskErrors, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import create_type, merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from walletflow.api.graphql.admission import Admission, DocumentCache
from walletflow.api.graphql.console import ConsoleQuery
from walletflow.api.graphql.jobs import JobsQuery, JobsSubscription
from walletflow.api.graphql.limits import QueryLimits, graphql_error
from walletflow.api.graphql.mutations import mutation_fields
from walletflow.api.graphql.observability import OperationMetrics, log_errors
from walletflow.api.graphql.operations import OperationsQuery
from walletflow.api.graphql.queries import Query
from walletflow.api.graphql.reporting import ReportingQuery
from walletflow.api.graphql.scalars import SCALAR_MAP
from walletflow.api.graphql.subscriptions import Subscription
from walletflow.config import Settings
from walletflow.db.errors import database_error
from walletflow.domain.errors import Forbidden, RateLimited, ValidationError, WalletflowError
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
                    **(
                        {"retryAfterS": original.retry_after_s}
                        if isinstance(original, RateLimited)
                        else {}
                    ),
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
    masking), including parse errors raised outside the execution hooks. Each is logged once
    there: typed refusals at INFO without a trace, unexpected failures at ERROR with it.

    `ws_max_connections` / `ws_max_subscriptions` are the per-principal bounds the endpoint
    applies to websockets (see `endpoint.py`)."""

    ws_max_connections: int = 16
    ws_max_subscriptions: int = 32

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """As strawberry's, but an operation type the transport does not allow (a mutation
        over GET, a subscription over HTTP) is a typed refusal, not a bare 400. `execute`
        never serves a subscription (graphql-transport-ws streams them)."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        try:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed,
                operation_extensions,
            )
        except InvalidOperationTypeError as error:
            refusal: WalletflowError
            if error.operation_type is OperationType.MUTATION:
                refusal = Forbidden("GET requests are read-only: send mutations with POST")
            else:
                refusal = ValidationError(
                    f"{error.operation_type.value} operations are not served over this "
                    "transport (subscriptions: graphql-transport-ws)",
                    field_errors={"query": "operation type"},
                )
            return ExecutionResult(data=None, errors=[graphql_error(refusal)])

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
        log_errors(errors)


def _should_mask(error: GraphQLError) -> bool:
    """Hide unexpected failures inside resolvers; keep typed errors and input problems (a bad
    scalar value is reported at validation, with no path)."""
    original = error.original_error
    if original is None or error.path is None:
        return False
    return not isinstance(original, WalletflowError | GraphQLError)


DOCUMENT_CACHE_SIZE = 1024


def build_schema(registry: Registry, settings: Settings) -> WalletflowSchema:
    query = merge_types("Query", (Query, ReportingQuery, OperationsQuery, ConsoleQuery, JobsQuery))
    subscription = merge_types("Subscription", (Subscription, JobsSubscription))
    mutation = create_type("Mutation", mutation_fields(registry))
    # One cache per schema: a verdict is always the verdict of these limits and rules.
    cache = DocumentCache(QueryLimits.from_settings(settings), maxsize=DOCUMENT_CACHE_SIZE)
    timeout_s = settings.graphql_timeout_s
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        OperationMetrics,
        lambda: Admission(cache, timeout_s),
        ErrorCodes,
        lambda: TypedErrors(should_mask_error=_should_mask),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    schema = WalletflowSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    schema.ws_max_connections = settings.graphql_ws_max_connections
    schema.ws_max_subscriptions = settings.graphql_ws_max_subscriptions
    return schema

"""Admission of a GraphQL document: bounded, parsed and validated once, then run against a clock.

One schema extension does, per request:
- `on_parse`: refuse a document larger than `GRAPHQL_MAX_DOCUMENT_BYTES` unparsed; otherwise
  parse it through a bounded LRU cache (clients send the same few documents over and over);
- `on_validate`: the limits of `limits.py` (census, then depth/cost/mutations) and, only for a
  document within them, graphql-core's validation — the whole verdict cached per document;
- `on_execute`: a deadline of `GRAPHQL_TIMEOUT_S` for queries and mutations (a subscription
  lives as long as its client), refused as `REQUEST_TIMEOUT`;
- for a subscription over a websocket, one of its principal's subscription slots, held for
  the operation's whole life (`on_operation`) and released however it ends; with none left
  the subscription is refused as `TOO_MANY_SUBSCRIPTIONS` before it takes a Redis connection.

A refusal before validation leaves a one-field placeholder document in the execution context
(strawberry needs one to name the operation type) and the refusal as the validation verdict,
so the placeholder is never executed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from walletflow.api.graphql.context import GraphQLContext
from walletflow.api.graphql.limits import (
    QueryLimits,
    document_too_large,
    graphql_error,
    measure_document,
    refusals,
)
from walletflow.domain.errors import RequestTimeout, TooManySubscriptions

NAME_RE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
Verdict = tuple[GraphQLError, ...]


class DocumentCache:
    """Parse results and validation verdicts, per query text, in bounded LRU caches."""

    def __init__(self, limits: QueryLimits, maxsize: int) -> None:
        self.limits = limits
        self.parse: Callable[[str], DocumentNode | GraphQLError] = lru_cache(maxsize)(_parse)
        self.verdict: Callable[[str, GraphQLSchema, tuple[type[ASTValidationRule], ...]], Verdict]
        self.verdict = lru_cache(maxsize)(self._verdict)

    def _verdict(
        self, query: str, schema: GraphQLSchema, rules: tuple[type[ASTValidationRule], ...]
    ) -> Verdict:
        document = self.parse(query)
        assert isinstance(document, DocumentNode), "only parsed documents are validated"
        refused = refusals(measure_document(document, schema, self.limits), self.limits)
        if refused:
            return tuple(graphql_error(error) for error in refused)
        return tuple(validate_document(schema, document, rules))


def _parse(query: str) -> DocumentNode | GraphQLError:
    try:
        return parse(query)
    except GraphQLError as error:
        return error


def _placeholder(allowed: set[OperationType], operation_name: str | None) -> DocumentNode:
    kind = next(
        (op for op in (OperationType.QUERY, OperationType.MUTATION) if op in allowed),
        OperationType.SUBSCRIPTION,
    )
    name = operation_name if operation_name and NAME_RE.match(operation_name) else ""
    return parse(f"{kind.value} {name} {{ __typename }}")


class Admission(SchemaExtension):
    def __init__(self, cache: DocumentCache, timeout_s: float) -> None:
        super().__init__()
        assert timeout_s > 0
        self.cache = cache
        self.timeout_s = timeout_s
        self.refused: Verdict | None = None
        self.slot_holder: GraphQLContext | None = None

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            holder, self.slot_holder = self.slot_holder, None
            if holder is not None and holder.subscription_slots is not None:
                holder.subscription_slots.release(holder.principal)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and context.graphql_document is None:
            too_large = document_too_large(query, self.cache.limits)
            parsed = graphql_error(too_large) if too_large else self.cache.parse(query)
            if isinstance(parsed, DocumentNode):
                context.graphql_document = parsed
            else:
                self.refused = (parsed,)
                context.graphql_document = _placeholder(
                    set(context.allowed_operations), context.operation_name
                )
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.refused is not None:
            context.pre_execution_errors = list(self.refused)
        elif context.query is not None:
            verdict = self.cache.verdict(
                context.query, context.schema._schema, tuple(context.validation_rules)
            )
            context.pre_execution_errors = list(verdict)
        if not context.pre_execution_errors and not self._take_subscription_slot():
            slots = context.context.subscription_slots
            refusal = TooManySubscriptions(
                f"at most {slots.limit} subscriptions per principal; complete one first",
                details={"limit": slots.limit},
            )
            context.pre_execution_errors = [graphql_error(refusal)]
        yield

    def _take_subscription_slot(self) -> bool:
        """False when this is a subscription and its principal has no slot left."""
        context = self.execution_context.context
        if not isinstance(context, GraphQLContext) or context.subscription_slots is None:
            return True
        try:
            is_subscription = self.execution_context.operation_type is OperationType.SUBSCRIPTION
        except RuntimeError:  # no such operation: strawberry refuses it typed
            return True
        if not is_subscription:
            return True
        if not context.subscription_slots.acquire(context.principal):
            return False
        self.slot_holder = context
        return True

    async def on_execute(self) -> AsyncIterator[None]:
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            yield
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                yield
        except TimeoutError:
            raise RequestTimeout(
                f"the request took longer than {self.timeout_s:g} s and was stopped; a "
                "mutation may have committed: send it again with the same idempotency key",
                details={"limit": self.timeout_s},
            ) from None

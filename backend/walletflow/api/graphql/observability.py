"""GraphQL operations in the metrics and the logs.

`OperationMetrics` counts each operation by type, root field and outcome and times it. The
root fields are schema field names (a document whose fields the schema does not have never
executes and is counted as `invalid`), so the label set is bounded by the schema.
`log_errors` writes each error once: a typed, expected refusal (FORBIDDEN, VALIDATION_ERROR,
GRAPHQL_VALIDATION_FAILED, …) at INFO with its code and no trace; an unexpected failure
(INTERNAL_ERROR) at ERROR with the trace.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from walletflow.observability import metrics
from walletflow.observability.logging import log_refusal

log = logging.getLogger("walletflow.graphql")

INVALID = "invalid"
UNKNOWN = "unknown"
INTERNAL_ERROR = "INTERNAL_ERROR"
MAX_ROOT_FIELDS = 32
"""Distinct root fields counted per operation (the rest share `other`)."""


def _root_fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            seen.add(name)  # each fragment once: no cycle, no blow-up
            yield from _root_fields(fragments[name].selection_set, fragments, seen)


def root_fields(document: object, operation_name: str | None) -> list[str]:
    """The distinct root field names of the operation that runs, in document order."""
    definitions = getattr(document, "definitions", ())
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if chosen is None:
        return []
    names = list(dict.fromkeys(_root_fields(chosen.selection_set, fragments, set())))
    if len(names) > MAX_ROOT_FIELDS:
        names = [*names[:MAX_ROOT_FIELDS], "other"]
    return names


def error_code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) and code else INTERNAL_ERROR


class OperationMetrics(SchemaExtension):
    """Count and time every operation (queries, mutations, each subscription start)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        elapsed_s = time.perf_counter() - started
        context = self.execution_context
        errors = list(context.pre_execution_errors or [])
        result = context.result
        if not errors and result is not None:
            errors = list(getattr(result, "errors", None) or [])
        outcome = error_code(errors[0]) if errors else metrics.OK
        try:
            operation_type = context.operation_type.value
        except Exception:
            operation_type = UNKNOWN
        executed = result is not None and getattr(result, "data", None) is not None
        fields = root_fields(context.graphql_document, context.operation_name) if executed else []
        for field in fields or [INVALID]:
            metrics.GRAPHQL_OPERATIONS.labels(operation_type, field, outcome).inc()
            metrics.GRAPHQL_DURATION.labels(operation_type, field).observe(elapsed_s)


def log_errors(errors: list[GraphQLError]) -> None:
    for error in errors:
        code = error_code(error)
        path = ".".join(str(part) for part in error.path or ())
        if code == INTERNAL_ERROR:
            original = error.original_error
            log.error(
                "graphql error at %s: %s",
                path or "-",
                error.message,
                exc_info=(type(original), original, original.__traceback__)
                if original is not None
                else None,
                extra={"code": code, "path": path},
            )
        else:
            log_refusal(log, code, error.message, path=path)

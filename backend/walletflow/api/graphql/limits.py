"""Query cost limit: every selected field costs 1, times the page sizes (`first`) of the
connections it sits under; a variable page size counts as the maximum. Depth is limited by
strawberry's QueryDepthLimiter; both run at validation, before any resolver."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from walletflow.views.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_FRAGMENT_NESTING = 32
PAGINATED_ARGUMENT = "first"


def _multiplier(field: FieldNode, is_connection: bool) -> int:
    for argument in field.arguments or ():
        if argument.name.value == PAGINATED_ARGUMENT:
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), MAX_PAGE_SIZE))
            return MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE if is_connection else 1


def selection_cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    multiplier: int,
    nesting: int = 0,
) -> int:
    if selection_set is None or nesting > MAX_FRAGMENT_NESTING:
        return 0
    cost = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            cost += multiplier
            child = selection.selection_set
            names = (
                {s.name.value for s in child.selections if isinstance(s, FieldNode)}
                if child
                else set()
            )
            is_connection = bool(names & {"edges", "nodes", "pageInfo"})
            cost += selection_cost(
                child, fragments, multiplier * _multiplier(selection, is_connection), nesting
            )
        elif isinstance(selection, InlineFragmentNode):
            cost += selection_cost(selection.selection_set, fragments, multiplier, nesting + 1)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                cost += selection_cost(fragment.selection_set, fragments, multiplier, nesting + 1)
    return cost


def document_costs(document: DocumentNode) -> dict[str, int]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    costs: dict[str, int] = {}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            name = definition.name.value if definition.name else "anonymous"
            costs[name] = selection_cost(definition.selection_set, fragments, 1)
    return costs


def cost_limit_rule(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for name, cost in document_costs(context.document).items():
                if cost > max_cost:
                    context.report_error(
                        GraphQLError(
                            f"operation {name!r} costs {cost}, more than the limit {max_cost}; "
                            "ask for fewer fields or smaller pages",
                            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost},
                        )
                    )

        def enter(self, *args: Any) -> None:
            return None

    return CostLimit

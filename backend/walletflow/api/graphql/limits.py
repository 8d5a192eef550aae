"""Query limits that cannot be turned against the server.

Every bound is checked in an order that keeps the work of checking bounded by the bound before:

1. the document's size in bytes, before it is parsed (parsing is linear in size);
2. a census of the parsed document — selections and aliases, each AST node visited once,
   fragments not expanded — stopping as soon as a bound is passed;
3. depth, cost and the number of mutations, computed once per fragment (memoised, in
   dependency order) and once per operation, so linear in the document's size: a fragment
   spread twice in each of twenty fragments is 2^20 paths but forty lookups.

Only a document within all of these reaches graphql-core's own validation, and then execution.
`Measure.work` counts the AST nodes the census and the walk visited, so tests can prove the
bound on work without timing anything.

Cost: a field costs its weight (1 unless `FIELD_WEIGHTS` says more: gates, reports,
statement rebuilds, exports) plus its children's cost times its page size (`first`, a variable
page size counting as the maximum, a connection without `first` as the default page). Depth
follows strawberry's rule (a field with a selection set is one level; introspection fields
are not counted, their lists are priced instead). Mutations: each root mutation field counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)

from walletflow.domain.errors import (
    LimitExceeded,
    QueryTooCostly,
    QueryTooDeep,
    QueryTooLarge,
    TooManyAliases,
    TooManyMutations,
    WalletflowError,
)
from walletflow.views.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

if TYPE_CHECKING:
    from walletflow.config import Settings

PAGINATED_ARGUMENT = "first"
COST_CEILING = 10**15
"""Costs saturate here: a refused document's cost is reported as at least this."""
INTROSPECTION_LIST_MULTIPLIER = 10
"""A list of an introspection type (`fields`, `args`, …) counts as this many items."""
MAX_INTROSPECTION_ROOTS = 1
"""`__schema` / `__type` fields per operation (GraphiQL and the dashboard ask for one)."""
MAX_INTROSPECTION_COST = 10_000
"""The cost of the subtree under `__schema`/`__type`, apart from GRAPHQL_MAX_COST (GraphiQL's
own introspection query costs about 5,000 here). Introspection fields cannot be aliased, so
graphql-core merges repeated ones and runs each once. Introspection is off in production."""
MAX_INTROSPECTION_LIST_NESTING = 3
"""Introspection lists within lists (`types { fields { args … } } }` is 3). Introspection is
exempt from depth, as in strawberry (GraphiQL's query is 14 deep through `ofType`), so this
is what bounds `types { fields { type { fields { type { fields … } } } } } }`."""
META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}

FIELD_WEIGHTS: dict[tuple[str, str], int] = {
    # Each scans the books or rebuilds a read model: priced so a handful fill a request.
    ("Query", "gates"): 1000,
    ("Query", "trialBalance"): 500,
    ("Query", "alm"): 500,
    ("Query", "coaDrift"): 500,
    ("Query", "accountMovements"): 500,
    ("Query", "commandStats"): 200,
    ("Query", "balances"): 100,
    ("Query", "coa"): 50,
    ("Query", "glMappings"): 50,
    ("Query", "templates"): 50,
    ("Query", "outboxStatus"): 50,
    ("Query", "statements"): 20,
    ("Query", "transactions"): 20,
    ("Query", "postings"): 20,
    ("Query", "holds"): 10,
    ("Query", "wallets"): 10,
    ("Query", "manualReviewQueue"): 10,
    ("Query", "providerEvents"): 10,
    ("Wallet", "balances"): 5,
    ("Subscription", "gates"): 2000,
    ("Subscription", "transactions"): 50,
    ("Subscription", "outboxAge"): 50,
    ("Subscription", "manualReviewQueue"): 50,
    ("Subscription", "events"): 10,
}
"""(parent type, field) → cost of the field itself. Everything else costs 1."""

REFRESH_WEIGHTS: dict[tuple[str, str, str], int] = {
    ("Query", "gates", "refreshStatements"): 1000,
}
"""(parent type, field, boolean argument) → extra cost unless the argument is literally false
(the statements rebuild runs by default)."""


@dataclass(frozen=True)
class QueryLimits:
    max_document_bytes: int
    max_nodes: int
    max_aliases: int
    max_depth: int
    max_cost: int
    max_mutations: int

    def __post_init__(self) -> None:
        assert self.max_document_bytes > 0 and self.max_nodes > 0
        assert self.max_aliases >= 0 and self.max_depth > 0
        assert self.max_cost > 0 and self.max_mutations > 0

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_document_bytes=settings.graphql_max_document_bytes,
            max_nodes=settings.graphql_max_nodes,
            max_aliases=settings.graphql_max_aliases,
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
            max_mutations=settings.graphql_max_mutations,
        )


@dataclass
class Measure:
    """What one document asks for. Depth, cost and mutations are the largest over its
    operations (`operation` names the costliest); `work` is the number of AST nodes visited."""

    nodes: int = 0
    aliases: int = 0
    depth: int = 0
    cost: int = 0
    mutations: int = 0
    introspections: int = 0
    introspection_lists: int = 0
    introspection_cost: int = 0
    introspection_aliases: int = 0
    operation: str = ""
    work: int = 0
    walked: bool = False
    """False when the census already refused the document (no walk was made)."""


@dataclass(frozen=True)
class _Summary:
    cost: int = 0
    depth: int = 0
    mutations: int = 0
    introspections: int = 0
    introspection_lists: int = 0
    introspection_cost: int = 0
    introspection_aliases: int = 0

    def plus(self, other: _Summary) -> _Summary:
        """`other` beside this one, in the same selection set."""
        return _Summary(
            cost=min(self.cost + other.cost, COST_CEILING),
            depth=max(self.depth, other.depth),
            mutations=self.mutations + other.mutations,
            introspections=self.introspections + other.introspections,
            introspection_lists=max(self.introspection_lists, other.introspection_lists),
            introspection_cost=min(
                self.introspection_cost + other.introspection_cost, COST_CEILING
            ),
            introspection_aliases=self.introspection_aliases + other.introspection_aliases,
        )


@dataclass
class _Walk:
    schema: GraphQLSchema | None
    measure: Measure
    fragments: dict[str, FragmentDefinitionNode]
    summaries: dict[str, _Summary] = field(default_factory=dict)

    def type_named(self, name: str | None) -> Any:
        if self.schema is None or name is None:
            return None
        return self.schema.get_type(name)

    def selection_set(self, selection_set: SelectionSetNode, parent: Any) -> _Summary:
        """Cost, depth and mutations of one selection set whose fields belong to `parent`
        (a GraphQL type, or None when unknown). Fragment spreads are looked up, never walked:
        `summaries` holds every fragment this one can reach (see `fragment_order`)."""
        total = _Summary()
        mutation_type = self.schema.mutation_type if self.schema is not None else None
        for selection in selection_set.selections:
            self.measure.work += 1
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent))
                if mutation_type is not None and parent is mutation_type:
                    total = total.plus(_Summary(mutations=1))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner_parent = (
                    self.type_named(condition.name.value) if condition is not None else parent
                )
                total = total.plus(self.selection_set(selection.selection_set, inner_parent))
            elif isinstance(selection, FragmentSpreadNode):
                # Unknown or cyclic fragments count nothing here; validation refuses them.
                total = total.plus(self.summaries.get(selection.name.value, _Summary()))
        return total

    def field(self, node: FieldNode, parent: Any) -> _Summary:
        name = node.name.value
        parent_name = getattr(parent, "name", None) or ""
        definition = META_FIELDS.get(name)
        if definition is None and isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        weight = FIELD_WEIGHTS.get((parent_name, name), 1) + _refresh_weight(parent_name, node)
        roots = 1 if name in {"__schema", "__type"} else 0
        aliased = int(node.alias is not None and (roots == 1 or parent_name.startswith("__")))
        if node.selection_set is None:
            return _Summary(cost=weight, introspections=roots, introspection_aliases=aliased)
        kind = definition.type if definition is not None else None
        child = self.selection_set(node.selection_set, _named(kind) if kind else None)
        multiplier = _multiplier(node, parent_name, kind)
        introspection_list = parent_name.startswith("__") and _is_list(kind)
        cost = min(weight + multiplier * child.cost, COST_CEILING)
        introspection_cost = child.introspection_cost
        if roots:
            cost, introspection_cost = 1, min(introspection_cost + cost, COST_CEILING)
        return _Summary(
            cost=cost,
            introspection_cost=introspection_cost,
            depth=0 if name.startswith("__") else 1 + child.depth,
            introspections=roots + child.introspections,
            introspection_aliases=aliased + child.introspection_aliases,
            introspection_lists=child.introspection_lists + (1 if introspection_list else 0),
        )


def _refresh_weight(parent_name: str, node: FieldNode) -> int:
    extra = 0
    for (owner, field_name, argument), weight in REFRESH_WEIGHTS.items():
        if owner != parent_name or field_name != node.name.value:
            continue
        given = next((a for a in node.arguments or () if a.name.value == argument), None)
        literally_false = (
            given is not None
            and isinstance(given.value, BooleanValueNode)
            and not given.value.value
        )
        if not literally_false:
            extra += weight
    return extra


def _named(kind: Any) -> Any:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _is_connection(kind: Any) -> bool:
    named = _named(kind) if kind is not None else None
    if not isinstance(named, GraphQLObjectType):
        return False
    return "edges" in named.fields and "pageInfo" in named.fields


def _is_list(kind: Any) -> bool:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def _multiplier(node: FieldNode, parent_name: str, kind: Any) -> int:
    """How many times a field's children are resolved: its page size."""
    for argument in node.arguments or ():
        if argument.name.value == PAGINATED_ARGUMENT:
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), MAX_PAGE_SIZE))
            return MAX_PAGE_SIZE
    if _is_connection(kind):
        return DEFAULT_PAGE_SIZE
    if parent_name.startswith("__") and parent_name != "__Schema" and _is_list(kind):
        return INTROSPECTION_LIST_MULTIPLIER
    return 1


def census(document: DocumentNode, limits: QueryLimits, measure: Measure) -> None:
    """Count selections and aliases, each node once (fragments not expanded), iteratively;
    stop as soon as a bound is passed, so the work is at most `max_nodes + 1` visits."""
    stack: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections:
            measure.work += 1
            measure.nodes += 1
            if isinstance(selection, FieldNode) and selection.alias is not None:
                measure.aliases += 1
            if measure.nodes > limits.max_nodes or measure.aliases > limits.max_aliases:
                return
            child = getattr(selection, "selection_set", None)
            if child is not None:
                stack.append(child)


def _spreads(selection_set: SelectionSetNode) -> set[str]:
    names: set[str] = set()
    stack = [selection_set]
    while stack:
        current = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                names.add(selection.name.value)
            child = getattr(selection, "selection_set", None)
            if child is not None:
                stack.append(child)
    return names


def fragment_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragments in dependency order (each after the fragments it spreads), iteratively.
    Unknown names and the edges closing a cycle are left out (validation refuses both)."""
    edges = {name: sorted(_spreads(fragment.selection_set)) for name, fragment in fragments.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in sorted(fragments):
        if root in done:
            continue
        on_path: set[str] = {root}
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            name, index = stack[-1]
            targets = edges[name]
            if index < len(targets):
                stack[-1] = (name, index + 1)
                target = targets[index]
                if target in fragments and target not in done and target not in on_path:
                    on_path.add(target)
                    stack.append((target, 0))
                continue
            stack.pop()
            on_path.discard(name)
            done.add(name)
            order.append(name)
    return order


def measure_document(
    document: DocumentNode, schema: GraphQLSchema | None, limits: QueryLimits
) -> Measure:
    """The census, then (if it passed) depth, cost and mutations of every operation."""
    measure = Measure()
    census(document, limits, measure)
    if measure.nodes > limits.max_nodes or measure.aliases > limits.max_aliases:
        return measure
    measure.walked = True
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema=schema, measure=measure, fragments=fragments)
    for name in fragment_order(fragments):
        fragment = fragments[name]
        walk.summaries[name] = walk.selection_set(
            fragment.selection_set, walk.type_named(fragment.type_condition.name.value)
        )
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = None
        if schema is not None:
            root = schema.get_root_type(definition.operation)
        summary = walk.selection_set(definition.selection_set, root)
        name = definition.name.value if definition.name else "anonymous"
        if summary.cost >= measure.cost:
            measure.cost, measure.operation = summary.cost, name
        measure.depth = max(measure.depth, summary.depth)
        if definition.operation is OperationType.MUTATION:
            measure.mutations = max(measure.mutations, summary.mutations)
        measure.introspections = max(measure.introspections, summary.introspections)
        measure.introspection_lists = max(measure.introspection_lists, summary.introspection_lists)
        measure.introspection_cost = max(measure.introspection_cost, summary.introspection_cost)
        measure.introspection_aliases += summary.introspection_aliases
    return measure


def refusals(measure: Measure, limits: QueryLimits) -> list[LimitExceeded]:
    """The typed errors for every bound this document passes ([] if none)."""
    details = {"work": measure.work}
    found: list[LimitExceeded] = []
    if measure.nodes > limits.max_nodes:
        found.append(
            QueryTooLarge(
                f"the document has more than {limits.max_nodes} selections",
                details={**details, "limit": limits.max_nodes},
            )
        )
    if measure.aliases > limits.max_aliases:
        found.append(
            TooManyAliases(
                f"the document has more than {limits.max_aliases} aliases",
                details={**details, "limit": limits.max_aliases},
            )
        )
    if not measure.walked:
        return found
    if measure.depth > limits.max_depth:
        found.append(
            QueryTooDeep(
                f"the document exceeds maximum operation depth of {limits.max_depth}",
                details={**details, "limit": limits.max_depth, "depth": measure.depth},
            )
        )
    if measure.introspection_lists > MAX_INTROSPECTION_LIST_NESTING:
        found.append(
            QueryTooDeep(
                f"introspection lists are nested more than {MAX_INTROSPECTION_LIST_NESTING} deep",
                details={**details, "limit": MAX_INTROSPECTION_LIST_NESTING},
            )
        )
    if measure.introspections > MAX_INTROSPECTION_ROOTS:
        found.append(
            QueryTooCostly(
                f"at most {MAX_INTROSPECTION_ROOTS} __schema/__type field per operation",
                details={**details, "limit": MAX_INTROSPECTION_ROOTS},
            )
        )
    if measure.introspection_aliases:
        found.append(
            TooManyAliases(
                "introspection fields cannot be aliased",
                details={**details, "limit": 0},
            )
        )
    if measure.introspection_cost > MAX_INTROSPECTION_COST:
        found.append(
            QueryTooCostly(
                f"the introspection costs {measure.introspection_cost}, more than the limit "
                f"{MAX_INTROSPECTION_COST}",
                details={**details, "limit": MAX_INTROSPECTION_COST},
            )
        )
    if measure.cost > limits.max_cost:
        found.append(
            QueryTooCostly(
                f"operation {measure.operation!r} costs {measure.cost}, more than the limit "
                f"{limits.max_cost}; ask for fewer fields or smaller pages",
                details={**details, "limit": limits.max_cost, "cost": measure.cost},
            )
        )
    if measure.mutations > limits.max_mutations:
        found.append(
            TooManyMutations(
                f"the document runs {measure.mutations} mutations, more than the limit "
                f"{limits.max_mutations}; send one mutation per request",
                details={**details, "limit": limits.max_mutations},
            )
        )
    return found


def document_too_large(query: str, limits: QueryLimits) -> QueryTooLarge | None:
    """Checked before parsing: parsing costs time linear in the document's size."""
    size = len(query.encode("utf-8", errors="replace"))
    if size <= limits.max_document_bytes:
        return None
    return QueryTooLarge(
        f"the document is {size} bytes, more than the limit {limits.max_document_bytes}",
        details={"limit": limits.max_document_bytes},
    )


def graphql_error(error: WalletflowError) -> GraphQLError:
    """A typed error as a GraphQL error with its stable code (and details) in `extensions`."""
    return GraphQLError(
        error.message,
        original_error=error,
        extensions={"code": error.code, "retryable": error.retryable, **error.details},
    )

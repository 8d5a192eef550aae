"""The query limits, as functions of a document: each bound refuses what it should, and the
work of checking is linear in the document's size (`Measure.work` counts AST nodes visited),
whatever the document makes a naive walk do."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    get_introspection_query,
    parse,
    print_ast,
    specified_rules,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from walletflow.api.graphql.admission import DocumentCache
from walletflow.api.graphql.limits import (
    FIELD_WEIGHTS,
    REFRESH_WEIGHTS,
    Measure,
    QueryLimits,
    document_too_large,
    measure_document,
    refusals,
)
from walletflow.api.graphql.schema import build_schema as build_walletflow_schema
from walletflow.config import Settings
from walletflow.service.catalog import build_registry
from walletflow_dashboard import documents

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
SDL_SCHEMA = build_schema(SCHEMA_FILE.read_text())
SCHEMA = build_walletflow_schema(build_registry(), Settings())._schema
LIMITS = QueryLimits.from_settings(Settings())
RULES = tuple(specified_rules)


def measure(query: str, limits: QueryLimits = LIMITS) -> Measure:
    return measure_document(parse(query), SCHEMA, limits)


def codes(query: str, limits: QueryLimits = LIMITS) -> list[str]:
    return [error.code for error in refusals(measure(query, limits), limits)]


def doubling(levels: int) -> str:
    """The 828-byte attack: each fragment spreads the one before twice (2^levels paths)."""
    fragments = ["fragment F0 on Query { me { role } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return f"query {{ ...F{levels - 1} }} " + " ".join(fragments)


def test_doubling_fragments_cost_2_to_the_20_and_are_refused_after_linear_work() -> None:
    found = measure(doubling(21))
    assert found.cost == 2 * 2**20  # `me` and `role` on each of 2^20 paths
    assert found.work <= 2 * found.nodes  # each AST node visited once by census and walk
    assert found.nodes == 1 + 2 + 2 * 20
    assert codes(doubling(21)) == ["QUERY_TOO_COSTLY"]


def test_an_alias_flood_is_refused_by_the_census_before_any_walk() -> None:
    flood = "{ " + " ".join(f"a{n}: me {{ role }}" for n in range(5000)) + " }"
    found = measure(flood)
    assert not found.walked
    assert found.aliases == LIMITS.max_aliases + 1
    assert found.work <= 2 * (LIMITS.max_aliases + 1)  # stopped at the first alias too many
    assert codes(flood) == ["QUERY_TOO_MANY_ALIASES"]


def test_a_selection_flood_is_refused_by_the_census_before_any_walk() -> None:
    flood = "{ me { " + " ".join(["role"] * 20_000) + " } }"
    found = measure(flood)
    assert not found.walked
    assert found.work == LIMITS.max_nodes + 1
    assert codes(flood) == ["QUERY_TOO_LARGE"]


def test_a_document_is_measured_in_bytes_before_it_is_parsed() -> None:
    small = QueryLimits(256, 100, 10, 10, 1000, 1)
    assert document_too_large("{ me { role } }", small) is None
    refused = document_too_large("{ me { subject } } # " + "é" * 120, small)  # 2 bytes each
    assert refused is not None and refused.code == "QUERY_TOO_LARGE"


def test_depth_counts_through_fragments_and_inline_fragments() -> None:
    deep = """
      query { wallets { ...W } }
      fragment W on WalletConnection { edges { node { ... on Wallet { balances { ...B } } } } }
      fragment B on WalletBalances { available { amountMinor } }
    """
    assert measure(deep).depth == 5
    shallow = QueryLimits(16_384, 1000, 50, 4, 5000, 1)
    assert codes(deep, shallow) == ["QUERY_TOO_DEEP"]
    assert codes(deep) == []


def test_gates_reports_and_rebuilds_are_weighted() -> None:
    plain = measure("{ me { role } }").cost
    gates_read = measure("{ gates(refreshStatements: false) { name } }").cost
    gates_rebuild = measure("{ gates { name } }").cost
    assert plain == 2
    assert gates_read == FIELD_WEIGHTS[("Query", "gates")] + 1
    assert gates_rebuild == gates_read + REFRESH_WEIGHTS[("Query", "gates", "refreshStatements")]
    assert measure("query($r: Boolean) { gates(refreshStatements: $r) { name } }").cost == (
        gates_rebuild
    )
    ten = "{ " + " ".join(f"g{n}: gates(refreshStatements: true) {{ ok }}" for n in range(10)) + "}"
    assert codes(ten) == ["QUERY_TOO_COSTLY"]
    reports = "{ trialBalance { foots } alm { lines { code } } coaDrift { check } }"
    assert measure(reports).cost >= 1500


def test_pages_multiply_their_children_and_a_variable_page_counts_as_the_largest() -> None:
    ten = measure("{ wallets(first: 10) { nodes { merchantId currency } } }").cost
    assert ten == FIELD_WEIGHTS[("Query", "wallets")] + 10 * 3
    variable = measure("query($n: Int) { wallets(first: $n) { nodes { merchantId } } }").cost
    assert variable == FIELD_WEIGHTS[("Query", "wallets")] + 200 * 2
    default = measure("{ wallets { nodes { merchantId } } }").cost
    assert default == FIELD_WEIGHTS[("Query", "wallets")] + 50 * 2


def test_every_weighted_field_is_a_field_of_the_schema() -> None:
    for parent, name in FIELD_WEIGHTS:
        kind = SDL_SCHEMA.get_type(parent)
        assert kind is not None and name in kind.fields, (parent, name)  # type: ignore[attr-defined]
    for parent, name, argument in REFRESH_WEIGHTS:
        kind = SDL_SCHEMA.get_type(parent)
        assert argument in kind.fields[name].args, (parent, name, argument)  # type: ignore[union-attr]


def test_more_than_one_mutation_is_refused_also_through_a_fragment() -> None:
    one = 'mutation { createWallet(idempotencyKey: "k1", input: {merchantId: "m", currency: "NGN"}) { __typename } }'  # noqa: E501
    assert codes(one) == []
    two = """
      mutation { ...M  b: revokeApiKey(keyId: "x") { __typename } }
      fragment M on Mutation { a: revokeApiKey(keyId: "y") { __typename } }
    """
    assert measure(two).mutations == 2
    assert codes(two) == ["TOO_MANY_MUTATIONS"]
    assert codes(two, QueryLimits(16_384, 1000, 50, 12, 5000, 2)) == []


def test_graphiqls_introspection_and_every_dashboard_document_pass_the_default_limits() -> None:
    assert codes(get_introspection_query(descriptions=True)) == []
    dashboard = {
        name: value
        for name, value in vars(documents).items()
        if name.endswith(("_QUERY", "_SUBSCRIPTION", "_MUTATION")) and isinstance(value, str)
    }
    assert len(dashboard) > 10
    refused = {name: found for name, query in dashboard.items() if (found := codes(query))}
    assert refused == {}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        (
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
            "QUERY_TOO_DEEP",
        ),
        ("{ __schema { a: types { name } } }", "QUERY_TOO_MANY_ALIASES"),
        (
            '{ a: __schema { queryType { name } } b: __type(name: "Query") { name } }',
            "QUERY_TOO_COSTLY",
        ),
    ],
)
def test_introspection_is_bounded_by_its_shape(query: str, code: str) -> None:
    assert code in codes(query)


def test_cyclic_and_unknown_fragments_end_the_walk_and_validation_refuses_them() -> None:
    cyclic = "query { ...A } fragment A on Query { me { role } ...B } fragment B on Query { ...A }"
    found = measure(cyclic)
    assert found.walked and found.work <= 2 * found.nodes
    cache = DocumentCache(LIMITS, maxsize=8)
    verdict = cache.verdict(cyclic, SCHEMA, RULES)
    assert verdict and "cannot spread fragment" in verdict[0].message.lower()
    unknown = "query { ...Nowhere }"
    assert measure(unknown).cost == 0
    assert cache.verdict(unknown, SCHEMA, RULES)


def test_a_verdict_is_computed_once_per_document() -> None:
    cache = DocumentCache(LIMITS, maxsize=8)
    query = doubling(21)
    first = cache.verdict(query, SCHEMA, ())
    again = cache.verdict(query, SCHEMA, ())
    assert first is again
    assert first[0].extensions["code"] == "QUERY_TOO_COSTLY"  # type: ignore[index]


# --- generated documents -------------------------------------------------------------------

QUERY_LEAVES = [
    "me { role }",
    "wallets(first: 3) { nodes { merchantId } }",
    "gates(refreshStatements: false) { name ok }",
    "holds { pageInfo { hasNextPage } }",
    "__typename",
]


@st.composite
def fragment_documents(draw: st.DrawFn) -> str:
    """Random fragment graphs (each fragment spreads earlier ones, possibly several times),
    with aliases, inline fragments and nesting under a connection."""
    count = draw(st.integers(1, 6))
    fragments = []
    for index in range(count):
        parts = draw(st.lists(st.sampled_from(QUERY_LEAVES), min_size=1, max_size=3))
        parts = [
            f"x{index}_{n}: {part}" if draw(st.booleans()) else part for n, part in enumerate(parts)
        ]
        if index:
            spreads = draw(st.lists(st.integers(0, index - 1), max_size=2))
            parts += [f"...F{target}" for target in spreads]
            if draw(st.booleans()):
                parts.append(f"... on Query {{ ...F{draw(st.integers(0, index - 1))} }}")
        fragments.append(f"fragment F{index} on Query {{ {' '.join(parts)} }}")
    root = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=3))
    body = " ".join(f"...F{target}" for target in root)
    return f"query {{ {body} }} " + " ".join(fragments)


def inline_fragments(document: DocumentNode) -> DocumentNode:
    """The same document with every fragment spread replaced by the fragment's body (as an
    inline fragment): what a naive walk would visit."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }

    def expand(selection_set: SelectionSetNode) -> SelectionSetNode:
        selections = []
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                selections.append(
                    InlineFragmentNode(
                        type_condition=fragment.type_condition,
                        directives=(),
                        selection_set=expand(fragment.selection_set),
                    )
                )
            elif isinstance(selection, InlineFragmentNode):
                selections.append(
                    InlineFragmentNode(
                        type_condition=selection.type_condition,
                        directives=(),
                        selection_set=expand(selection.selection_set),
                    )
                )
            else:
                assert isinstance(selection, FieldNode)
                child = selection.selection_set
                selections.append(
                    FieldNode(
                        alias=selection.alias,
                        name=selection.name,
                        arguments=selection.arguments,
                        directives=(),
                        selection_set=expand(child) if child is not None else None,
                    )
                )
        return SelectionSetNode(selections=tuple(selections))

    operations = [
        OperationDefinitionNode(
            operation=d.operation,
            name=d.name,
            variable_definitions=d.variable_definitions,
            directives=(),
            selection_set=expand(d.selection_set),
        )
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return parse(print_ast(DocumentNode(definitions=tuple(operations))))


UNBOUNDED = QueryLimits(1_000_000, 100_000, 10_000, 64, 10**12, 100)


@settings(max_examples=150, deadline=None, database=None)
@given(fragment_documents())
def test_the_memoised_measure_is_the_measure_of_the_document_with_fragments_inlined(
    query: str,
) -> None:
    document = parse(query)
    memoised = measure_document(document, SCHEMA, UNBOUNDED)
    naive = measure_document(inline_fragments(document), SCHEMA, UNBOUNDED)
    assert (memoised.cost, memoised.depth, memoised.mutations) == (
        naive.cost,
        naive.depth,
        naive.mutations,
    )
    assert memoised.work <= 2 * memoised.nodes

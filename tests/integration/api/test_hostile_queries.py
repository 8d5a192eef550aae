"""Documents written to make the server work are refused, typed, before anything runs.

A hypothesis fuzz draws the shapes that made a naive server spend seconds per request —
fragments that spread the one before several times (2^n paths in a few hundred bytes), alias
floods, deep nesting, wide selections, many aliased `gates(refreshStatements: true)`, hundreds
of aliased mutations, documents over the size limit — and posts each to the real app. Each must
come back as a GraphQL error with a limit's stable code and no data; where the limits walked
the document, the work they report (`extensions.work`, AST nodes visited) is at most two visits
per node of the document. No time is measured.

Also here: the money mutations per request, read-only requests (GET, analysts) that must not
rebuild statements, and strawberry's transport errors, typed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from graphql import FieldNode, FragmentSpreadNode, GraphQLSyntaxError, InlineFragmentNode, parse
from graphql.language import Visitor, visit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import Api

LIMIT_CODES = {
    "QUERY_TOO_LARGE",
    "QUERY_TOO_MANY_ALIASES",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COSTLY",
    "TOO_MANY_MUTATIONS",
}
LEAVES = [
    "me { role }",
    "gates(refreshStatements: true) { name ok }",
    "trialBalance { foots lines { code } }",
    "wallets(first: 200) { nodes { merchantId balances { total { amountMinor } } } }",
    "transactions { nodes { id postings { source } } }",
]
CREATE = 'createWallet(idempotencyKey: "k{n}", input: {{merchantId: "h{n}", currency: "NGN"}})'


@st.composite
def doubling(draw: st.DrawFn) -> str:
    levels = draw(st.integers(14, 40))  # 2^13 paths of at least 2 fields: over 5,000
    width = draw(st.integers(2, 4))
    leaf = draw(st.sampled_from(LEAVES))
    fragments = [f"fragment F0 on Query {{ {leaf} }}"]
    for level in range(1, levels):
        spreads = " ".join([f"...F{level - 1}"] * width)
        fragments.append(f"fragment F{level} on Query {{ {spreads} }}")
    return f"query {{ ...F{levels - 1} }} " + " ".join(fragments)


@st.composite
def alias_flood(draw: st.DrawFn) -> str:
    count = draw(st.integers(51, 1500))
    leaf = draw(st.sampled_from(LEAVES))
    return "{ " + " ".join(f"a{n}: {leaf}" for n in range(count)) + " }"


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    levels = draw(st.integers(13, 120))
    return "{ me " + "{ role " * levels + "}" * levels + " }"


@st.composite
def wide_selection(draw: st.DrawFn) -> str:
    count = draw(st.integers(1001, 4000))
    return "{ me { " + " ".join(["role"] * count) + " } }"


@st.composite
def aliased_gates(draw: st.DrawFn) -> str:
    count = draw(st.integers(3, 50))
    return (
        "{ "
        + " ".join(f"g{n}: gates(refreshStatements: true) {{ ok }}" for n in range(count))
        + " }"
    )


@st.composite
def aliased_mutations(draw: st.DrawFn) -> str:
    count = draw(st.integers(2, 500))
    body = " ".join(f"m{n}: {CREATE.format(n=n)} {{ __typename }}" for n in range(count))
    return f"mutation {{ {body} }}"


@st.composite
def oversized(draw: st.DrawFn) -> str:
    padding = draw(st.integers(16 * 1024, 60 * 1024))
    return "{ me { role } } # " + "x" * padding


hostile_documents = st.one_of(
    doubling(),
    alias_flood(),
    deep_nesting(),
    wide_selection(),
    aliased_gates(),
    aliased_mutations(),
    oversized(),
)


def selections_in(query: str) -> int:
    """The test's own count of the document's selections (fields, spreads, inline fragments)."""
    count = 0

    class Count(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            nonlocal count
            if isinstance(node, FieldNode | FragmentSpreadNode | InlineFragmentNode):
                count += 1

    visit(parse(query), Count())
    return count


@dataclass
class Refusal:
    code: str
    extensions: dict[str, Any]


def refusal_of(response: httpx.Response) -> Refusal:
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert body.get("data") is None, body.get("data")
    errors = body["errors"]
    assert errors, body
    extensions = errors[0]["extensions"]
    return Refusal(code=extensions["code"], extensions=extensions)


@pytest.mark.timeout(300)
async def test_documents_drawn_to_maximise_work_are_refused_after_bounded_work(
    keyed_api: Api, engine: AsyncEngine
) -> None:
    loop = asyncio.get_running_loop()
    seen: set[str] = set()
    claims_before = await count_rows(engine, "idempotency_claims")

    def post(query: str, who: str) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(keyed_api.graphql(query, who=who), loop)
        return future.result(timeout=60)

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(hostile_documents, st.sampled_from(["admin", "analyst"]))
    def one(query: str, who: str) -> None:
        refusal = refusal_of(post(query, who))
        try:
            parsed_nodes: int | None = selections_in(query)
        except GraphQLSyntaxError:  # nested deeper than the parser goes
            parsed_nodes = None
        if parsed_nodes is None:
            assert refusal.code == "GRAPHQL_PARSE_FAILED", refusal
        else:
            assert refusal.code in LIMIT_CODES, refusal
        work = refusal.extensions.get("work")
        if work is not None:
            assert parsed_nodes is not None
            assert work <= 2 * parsed_nodes, (work, parsed_nodes)
        seen.add(refusal.code)

    await asyncio.to_thread(one)
    assert {"QUERY_TOO_COSTLY", "QUERY_TOO_MANY_ALIASES", "QUERY_TOO_LARGE"} <= seen, seen
    assert await count_rows(engine, "wallets") == 0, "no refused mutation ran"
    assert await count_rows(engine, "idempotency_claims") == claims_before


async def count_rows(engine: AsyncEngine, table: str) -> int:
    assert table.isidentifier()
    async with engine.connect() as connection:
        count: int = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return count


async def test_the_828_byte_doubling_document_is_refused_as_too_costly(api: Api) -> None:
    fragments = ["fragment F0 on Query { me { role } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 21)]
    query = "query { ...F20 } " + " ".join(fragments)
    refusal = refusal_of(await api.graphql(query))
    assert refusal.code == "QUERY_TOO_COSTLY"
    assert refusal.extensions["cost"] >= 2**20
    assert refusal.extensions["work"] <= 2 * selections_in(query)


async def test_one_mutation_per_request_and_the_refused_document_writes_nothing(
    api: Api, engine: AsyncEngine
) -> None:
    two = f"mutation {{ a: {CREATE.format(n=1)} {{ __typename }} b: {CREATE.format(n=2)} {{ __typename }} }}"  # noqa: E501
    assert refusal_of(await api.graphql(two)).code == "TOO_MANY_MUTATIONS"
    assert await count_rows(engine, "wallets") == 0
    one = await api.data(f"mutation {{ a: {CREATE.format(n=1)} {{ __typename }} }}")
    assert one["a"]["__typename"] == "CommandSuccess"


STATEMENTS_GATE = "statements"


async def statements_gate(api: Api, query: str, who: str, method: str = "POST") -> dict[str, Any]:
    if method == "GET":
        response = await api.client.get(
            "/graphql", params={"query": query}, headers=api.headers_for(who)
        )
    else:
        response = await api.graphql(query, who=who)
    body = response.json()
    assert not body.get("errors"), body
    gate: dict[str, Any] = next(g for g in body["data"]["gates"] if g["name"] == STATEMENTS_GATE)
    return gate


async def pay_in(api: Api) -> None:
    await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    payin = {"merchantId": "m1", "currency": "NGN", "amount": "10.00", "provider": "sandbox"}
    assert (await api.mutate("postPayin", payin))["__typename"] == "CommandSuccess"


async def test_analysts_and_get_requests_read_the_gates_without_rebuilding_statements(
    keyed_api: Api,
) -> None:
    await pay_in(keyed_api)
    query = "{ gates { name ok detail } }"
    as_analyst = await statements_gate(keyed_api, query, "analyst")
    over_get = await statements_gate(keyed_api, query, "admin", method="GET")
    for gate in (as_analyst, over_get):
        assert gate["detail"]["refreshedTransactions"] == 0, gate
        assert gate["detail"]["pendingTransactions"] >= 1, gate
    rebuilt = await statements_gate(keyed_api, query, "admin")
    assert rebuilt["detail"]["refreshedTransactions"] >= 1 and rebuilt["ok"], rebuilt


async def test_asking_a_read_only_request_to_rebuild_is_forbidden(keyed_api: Api) -> None:
    query = "{ gates(refreshStatements: true) { name } }"
    analyst = (await keyed_api.graphql(query, who="analyst")).json()
    assert analyst["errors"][0]["extensions"]["code"] == "FORBIDDEN", analyst
    over_get = await keyed_api.client.get(
        "/graphql", params={"query": query}, headers=keyed_api.headers_for("admin")
    )
    assert over_get.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mutation = 'mutation { rebuildStatements(idempotencyKey: "get-1") { __typename } }'
    over_get = await keyed_api.client.get(
        "/graphql", params={"query": mutation}, headers=keyed_api.headers_for("admin")
    )
    assert over_get.status_code == 200, over_get.text
    assert over_get.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_transport_refusals_are_typed_json(api: Api) -> None:
    for content in (b"{not json", b'{"query": 42}', b'{"variables": []}'):
        response = await api.client.post(
            "/graphql",
            content=content,
            headers={"content-type": "application/json", **api.headers_for("admin")},
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR", response.text
    subscription = await api.graphql("subscription { outboxAge { pendingCount } }")
    assert subscription.json()["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"

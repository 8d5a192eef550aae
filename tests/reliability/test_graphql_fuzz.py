"""Bad input: a GraphQL fuzz of every mutation and every query in `schema.graphql`.

A generator of our own reads the SDL (graphql-core `build_schema`) and draws argument values
per type, mostly hostile: huge, negative and fractional amounts, floats, unknown currencies,
unicode (emoji, right-to-left marks, NUL bytes, 10k characters) in references and ids,
malformed idempotency keys, nulls where a value is required and values of the wrong type. Each
example is POSTed to a real running app as an admin or as a merchant. The rule: never a 5xx,
and every refusal is typed — a GraphQL error carries `extensions.code`, a union result that is
an `Error` carries its `code`, a plain HTTP refusal is `{"error": {"code": …}}`. The books still
hold afterwards. Oversized bodies, deep queries and costly queries are refused typed as well.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import AUTH_TOKEN, Api
from tests.reliability.invariants import check_invariants, describe
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.providers.serving import serve_in_thread

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
STATS_FILE = Path("test-output/reliability/graphql_fuzz_stats.json")
EXAMPLES_PER_OPERATION = 7
REQUEST_TIMEOUT_S = 30.0
SCHEMA = build_schema(SCHEMA_FILE.read_text())
MUTATION = SCHEMA.mutation_type
QUERY = SCHEMA.query_type
assert MUTATION is not None and QUERY is not None
OPERATIONS: list[tuple[str, str, GraphQLField]] = [
    ("mutation", name, field) for name, field in sorted(MUTATION.fields.items())
] + [("query", name, field) for name, field in sorted(QUERY.fields.items())]

NASTY_STRINGS = [
    "",
    " ",
    "x" * 10_000,
    "💸🔥" * 40,
    "\u202etxet-ltr\u202c",
    "مرحبا",
    "nul\x00byte",
    "line\nbreak\r\n",
    "' OR 1=1 --",
    "../../etc/passwd",
    "merchants:m1:NGN:available",
    "@world",
    "NGN/2 100",
    "null",
    "\ud7ff\ue000",
    "%s%n%x",
    "<script>alert(1)</script>",
]
HUGE_INTS = [2**31, -(2**31) - 1, 2**63, -(2**63), 2**64 + 1, 10**40, -(10**40)]
CURRENCIES = ["NGN", "UGX", "USD", "BHD", "USDC", "XXX", "ngn", "NGN/2", "N", "", "💸"]
MERCHANTS = ["m1", "m2", "m-unknown"]

nasty_text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=40),
    st.text(alphabet=string.printable, max_size=20),
)
nasty_int = st.one_of(st.integers(-5, 5), st.sampled_from(HUGE_INTS), st.integers())
nasty_amount = st.one_of(
    st.sampled_from(["1.00", "25.50", "100"]),
    st.integers(1, 10**6),
    st.sampled_from(
        ["1.00", "0", "0.00", "-1.00", "0.001", "1.005", "1e5", "NaN", "Infinity", "-0", "1,000"]
    ),
    st.decimals(allow_nan=True, allow_infinity=True, places=4).map(str),
    nasty_int,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([str(10**30), "99999999999999999999.99"]),
)
nasty_datetime = st.one_of(
    st.sampled_from(["2026-01-01T00:00:00+00:00", "2026-13-45T99:99", "yesterday", "0000-00-00"]),
    st.datetimes().map(lambda moment: moment.isoformat()),
)
json_values = st.recursive(
    st.none() | st.booleans() | nasty_int | st.floats(allow_nan=False) | nasty_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(nasty_text, children, max_size=3)
    ),
    max_leaves=8,
)
wrong_type = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_int,
    nasty_text,
    st.lists(st.integers(), max_size=2),
    st.just({"unexpected": "object"}),
)
idempotency_keys = st.one_of(
    st.uuids().map(lambda key: f"fuzz-{key}"),
    st.sampled_from(["", " ", "k" * 201, "tab\tkey", "nul\x00key", "ключ", "💸"]),
)


def scalar_values(scalar: GraphQLScalarType, arg_name: str) -> st.SearchStrategy[Any]:
    lowered = arg_name.lower()
    if scalar.name == "String":
        if lowered == "idempotencykey":
            return idempotency_keys
        if "currency" in lowered or lowered == "asset":
            return st.one_of(st.sampled_from(CURRENCIES), nasty_text)
        if "merchant" in lowered:
            return st.one_of(st.sampled_from(MERCHANTS), nasty_text)
        if lowered == "provider":
            return st.one_of(st.just("sandbox"), nasty_text)
        return nasty_text
    if scalar.name == "Int":
        return nasty_int
    if scalar.name == "Float":
        return st.floats()
    if scalar.name == "Boolean":
        return st.booleans()
    if scalar.name == "Amount":
        return nasty_amount
    if scalar.name == "BigInt":
        return st.one_of(nasty_int.map(str), nasty_int, nasty_text)
    if scalar.name == "DateTime":
        return nasty_datetime
    if scalar.name == "JSON":
        return json_values
    return nasty_text


def input_values(
    kind: GraphQLInputType, arg_name: str, hostile: bool, depth: int = 0
) -> st.SearchStrategy[Any]:
    """Values of the declared type (so the resolvers run), nasty within that type; `hostile`
    adds nulls where a value is required and values of the wrong type."""
    if isinstance(kind, GraphQLNonNull):
        inner = input_values(kind.of_type, arg_name, hostile, depth)
        if not hostile:
            return inner.filter(lambda value: value is not None)
        return st.one_of(inner, inner, inner, inner, wrong_type)
    if isinstance(kind, GraphQLList):
        return st.lists(input_values(kind.of_type, arg_name, hostile, depth + 1), max_size=3)
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return st.none()
        required = {
            name: input_values(field.type, name, hostile, depth + 1)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
        optional = {
            name: input_values(field.type, name, hostile, depth + 1)
            for name, field in kind.fields.items()
            if not isinstance(field.type, GraphQLNonNull)
        }
        return st.fixed_dictionaries(required, optional=optional)
    if isinstance(kind, GraphQLEnumType):
        return st.one_of(st.sampled_from(sorted(kind.values)), nasty_text)
    assert isinstance(kind, GraphQLScalarType), kind
    return st.one_of(st.none(), scalar_values(kind, arg_name), scalar_values(kind, arg_name))


def named(kind: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def may_be_error(target: GraphQLOutputType) -> bool:
    if isinstance(target, GraphQLUnionType):
        return any(may_be_error(member) for member in target.types)
    if isinstance(target, GraphQLObjectType):
        return any(interface.name == "Error" for interface in target.interfaces)
    return isinstance(target, GraphQLInterfaceType) and target.name == "Error"


def selection(kind: GraphQLOutputType) -> str:
    """`__typename`, the typed error's code, and the scalar fields needing no arguments."""
    target = named(kind)
    if isinstance(target, GraphQLScalarType | GraphQLEnumType):
        return ""
    parts = ["__typename"]
    if may_be_error(target):
        parts.append("... on Error { code message retryable }")
    if isinstance(target, GraphQLObjectType | GraphQLInterfaceType):
        for name, field in target.fields.items():
            leaf = named(field.type)
            needs_args = any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
            if isinstance(leaf, GraphQLScalarType | GraphQLEnumType) and not needs_args:
                parts.append(name)
    if isinstance(target, GraphQLUnionType | GraphQLInterfaceType | GraphQLObjectType):
        return "{ " + " ".join(parts) + " }"
    return ""


def document(operation: str, name: str, field: GraphQLField) -> str:
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{operation}({declared})" if declared else operation
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {selection(field.type)} }}"


@st.composite
def requests(
    draw: st.DrawFn, operation: str, name: str, field: GraphQLField
) -> tuple[str, str, dict[str, Any], str]:
    hostile = draw(st.booleans())
    variables = {
        arg: draw(input_values(spec.type, arg, hostile))  # type: ignore[arg-type]
        for arg, spec in field.args.items()
        if isinstance(spec.type, GraphQLNonNull) or draw(st.booleans())
    }
    who = draw(st.sampled_from(["admin", "merchant"]))
    return name, document(operation, name, field), variables, who


def untyped_errors(name: str, response: httpx.Response) -> list[str]:
    """What is wrong with this answer: [] when it is a success or a typed refusal."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:500]}"]
    try:
        body = response.json()
    except ValueError:
        return [f"HTTP {response.status_code} not JSON: {response.text[:300]}"]
    if response.status_code != 200:
        code = body.get("error", {}).get("code") if isinstance(body, dict) else None
        return [] if code else [f"HTTP {response.status_code} untyped: {body}"]
    problems = [
        f"GraphQL error without extensions.code: {error}"
        for error in body.get("errors") or []
        if not (error.get("extensions") or {}).get("code")
    ]
    problems += [
        f"an unexpected failure in a resolver (a 500 in all but name): {error}"
        for error in body.get("errors") or []
        if (error.get("extensions") or {}).get("code") == "INTERNAL_ERROR"
    ]
    result = (body.get("data") or {}).get(name)
    if isinstance(result, dict) and "code" in result and not result["code"]:
        problems.append(f"typed error result without a code: {result}")
    return problems


def run_fuzz(base_url: str, tokens: dict[str, str]) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "examples": 0,
        "operations": Counter(),
        "http_status": Counter(),
        "codes": Counter(),
        "results": Counter(),
        "untyped": [],
    }
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        for operation, name, field in OPERATIONS:
            fuzz_operation(client, tokens, stats, requests(operation, name, field))
    return stats


def fuzz_operation(
    client: httpx.Client,
    tokens: dict[str, str],
    stats: dict[str, Any],
    strategy: st.SearchStrategy[tuple[str, str, dict[str, Any], str]],
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    @given(strategy)
    def one_request(request: tuple[str, str, dict[str, Any], str]) -> None:
        name, query, variables, who = request
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {tokens[who]}"},
        )
        stats["examples"] += 1
        stats["operations"][name] += 1
        stats["http_status"][str(response.status_code)] += 1
        problems = untyped_errors(name, response)
        if not problems and response.status_code == 200:
            body = response.json()
            for error in body.get("errors") or []:
                stats["codes"][error["extensions"]["code"]] += 1
            result = (body.get("data") or {}).get(name)
            if isinstance(result, dict) and result.get("__typename"):
                stats["results"][result["__typename"]] += 1
            if isinstance(result, dict) and result.get("code"):
                stats["codes"][result["code"]] += 1
        if problems:
            stats["untyped"].append({"query": query, "variables": repr(variables)[:500]})
        assert not problems, (query, repr(variables)[:2000], who, problems)

    one_request()


@pytest.mark.timeout(240)
async def test_every_operation_fuzzed_never_5xx_and_every_error_typed(
    database_url: str, redis_url: str, engine: AsyncEngine
) -> None:
    app = create_app(load_settings({"AUTH_TOKEN": AUTH_TOKEN}), database_url, redis_url)
    with serve_in_thread(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
            admin = {"authorization": f"Bearer {AUTH_TOKEN}"}
            for merchant in ("m1", "m2"):
                created = await client.post(
                    "/graphql",
                    json={
                        "query": """mutation($m: String!) { createWallet(idempotencyKey: $m,
                            input: {merchantId: $m, currency: "NGN"}) { __typename } }""",
                        "variables": {"m": merchant},
                    },
                    headers=admin,
                )
                assert created.json()["data"]["createWallet"]["__typename"] == "CommandSuccess"
            made = await client.post(
                "/graphql",
                json={
                    "query": """mutation { createApiKey(role: "merchant", merchantId: "m1") {
                        ... on CreatedApiKey { token } } }"""
                },
                headers=admin,
            )
            tokens = {"admin": AUTH_TOKEN, "merchant": made.json()["data"]["createApiKey"]["token"]}
        stats = await asyncio.to_thread(run_fuzz, base_url, tokens)

    STATS_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATS_FILE.write_text(json.dumps(stats, indent=2, sort_keys=True, default=dict))
    print(
        f"\ngraphql fuzz: {stats['examples']} examples over "
        f"{len(stats['operations'])}/{len(OPERATIONS)} operations; "
        f"HTTP {dict(stats['http_status'])}; results {dict(stats['results'])}"
    )
    assert len(stats["operations"]) == len(OPERATIONS), "every operation was fuzzed"
    assert stats["examples"] >= len(OPERATIONS) * 3
    violations = await check_invariants(engine)
    assert not violations, describe(violations)


MAX_DEPTH = 4
DEEP_QUERY = "{ wallets { edges { node { balances { available { amountMinor } } } } } }"


@pytest.fixture
def api_env(api_env: dict[str, str]) -> dict[str, str]:
    """The schema's deepest path is 6 levels, under the default limit (12): lower it."""
    return {**api_env, "GRAPHQL_MAX_DEPTH": str(MAX_DEPTH)}


async def test_oversized_deep_costly_and_malformed_requests_are_refused_typed(api: Api) -> None:
    oversized = await api.client.post(
        "/graphql",
        content=b'{"query": "{ me { role } }", "pad": "' + b"x" * (300 * 1024) + b'"}',
        headers={"content-type": "application/json", **api.headers_for("admin")},
    )
    assert oversized.status_code == 413
    assert oversized.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    deep = (await api.graphql(DEEP_QUERY)).json()
    assert deep["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP", deep
    assert "depth" in deep["errors"][0]["message"]

    aliases = " ".join(f"w{n}: wallets(first: 200) {{ nodes {{ merchantId }} }}" for n in range(20))
    costly = (await api.graphql(f"{{ {aliases} }}")).json()
    assert costly["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", costly

    for content in (b"{not json", b"[]", b'{"query": 42}', b'{"query": "{ me { "}', b"{}"):
        response = await api.client.post(
            "/graphql",
            content=content,
            headers={"content-type": "application/json", **api.headers_for("admin")},
        )
        assert response.status_code < 500, (content, response.text)
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        codes = [e.get("extensions", {}).get("code") for e in (body or {}).get("errors", [])]
        assert response.status_code == 400 or all(codes), (content, response.text)


def nul_sample(kind: GraphQLInputType) -> Any:
    """A value of `kind` whose strings all carry a NUL character (None if not a plain one)."""
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        item = nul_sample(inner.of_type)
        return None if item is None else [item]
    samples = {"String": "nul\x00byte", "DateTime": "2026-01-01T00:00:00+00:00", "Int": 5}
    return samples.get(getattr(inner, "name", ""))


async def test_a_nul_character_in_any_query_argument_is_a_typed_validation_error(api: Api) -> None:
    """PostgreSQL text cannot hold NUL: the database's refusal must reach the client as a typed
    VALIDATION_ERROR, never as an unexpected failure (INTERNAL_ERROR)."""
    codes: Counter[str] = Counter()
    for operation, name, field in OPERATIONS:
        if operation != "query" or not field.args:
            continue
        variables = {arg: nul_sample(spec.type) for arg, spec in field.args.items()}
        response = await api.graphql(document(operation, name, field), variables)
        assert not untyped_errors(name, response), (name, response.text)
        for error in response.json().get("errors") or []:
            codes[error["extensions"]["code"]] += 1
    assert codes["VALIDATION_ERROR"] >= 1, codes

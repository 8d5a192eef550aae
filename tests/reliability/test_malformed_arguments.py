"""Every argument of every query in `schema.graphql`, fed foreign cursors and garbage of its
type, one argument at a time (the others sane): the answer is a typed error or a success,
never INTERNAL_ERROR and never a 5xx. A cursor that is well formed (base64 JSON) but not one
the server handed out for that list (another list's, another shape, wrong types, out of range)
is a VALIDATION_ERROR naming the argument.

Beside `test_graphql_fuzz.py` (random values of each type, over a served app): here the
values are the ones chosen to break decoders, each argument gets every one of them, and the
app runs in process. The walk is over the schema, so a query added later is covered (a new
argument type without garbage here fails `test_every_argument_of_every_query_has_garbage`).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from tests.integration.api.conftest import Api
from tests.integration.api.conftest import api_env as default_api_env
from tests.reliability.test_graphql_fuzz import QUERY, document, untyped_errors


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def b64_text(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


FOREIGN_CURSORS = [
    "WzEsMl0=",  # [1, 2]: the one issue 18 reported against holds
    b64(["m1", "NGN"]),  # a wallets cursor, given to holds/postings
    b64(["2026-01-01T00:00:00+00:00", "po-1"]),  # a holds cursor, given to the others
    b64(["2026-01-01T00:00:00", "po-1"]),  # a time without its offset
    b64(["9999-12-31T23:59:59-14:00", "po-1"]),  # past year 9999 in UTC
    b64(["m1", "nul\x00"]),
    b64([10**30, 1]),
    b64([-(2**63) - 1, 0]),
    b64([True, False]),
    b64([None, None]),
    b64([[], {}]),
    b64([1.5, 2.5]),
    b64(["x"]),
    b64([1, 2, 3]),
    b64([1, 2**40]),  # an ordinal past 32 bits
    b64({"id": 5}),  # the ledger's transaction cursor, given to the others
    b64({"id": "five"}),
    b64({"id": 10**30}),
    b64({"id": [1]}),
    b64({"id": 5, "address": "a"}),
    b64({"address": 7}),
    b64({"seq": 3}),  # the statements cursor
    b64({"seq": "3"}),
    b64({"seq": 10**30}),
    b64({"seq": -1}),
    b64("just a string"),
    b64(None),
    b64_text('{"id": Infinity}'),
    b64_text("[NaN, NaN]"),
    b64_text("[" * 400),
    "bm90IGpzb24=",  # base64 of "not json"
    "/w==",  # not UTF-8
    "!!!not base64!!!",
    "",
    "x" * 600,
    "nul\x00",
]
NASTY_STRINGS = [
    "",
    "x" * 5000,
    "nul\x00byte",
    "💸",
    "%_\\",
    "merchants:m1:NGN:available",
    "'; --",
    "job_" + "0" * 32,  # a well-formed id of nothing
    "job_zz",
]
NASTY_TIMES = [
    "yesterday",
    "2026-13-45T99:99:99",
    "2026-01-01T00:00:00",  # naive
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59-14:00",  # past year 9999 in UTC
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "2026-01-01T00:00:00+25:00",
    "",
    12,
]
NASTY_INTS = [0, -1, 1, 2**31 - 1, -(2**31)]
NASTY_BIG_INTS = ["0", "-1", str(2**63), str(-(2**63) - 1), "1e3", "12.5", "", "x"]
NASTY_AMOUNTS = ["0", "-1", "1.234567", "1e9", "NaN", "Infinity", "", str(10**40), 1.5]
SANE: dict[str, Any] = {
    "prefix": "fees:",
    "fromTime": "2026-01-01T00:00:00+00:00",
    "toTime": "2026-02-01T00:00:00+00:00",
    "merchantId": "m1",
    "currency": "NGN",
    "windowS": 60,
    "first": 5,
    "id": "job_" + "0" * 32,
    "newestFirst": True,
    "payoutId": "po-1",
    "text": "m1",
}
CURSOR_ARGUMENTS = {"after", "cursor", "before"}


def base(kind: GraphQLInputType) -> tuple[GraphQLInputType, bool]:
    """The type under NonNull, and whether it is a list."""
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        item = inner.of_type
        return (item.of_type if isinstance(item, GraphQLNonNull) else item), True
    return inner, False


def garbage(arg: str, kind: GraphQLInputType) -> list[Any]:
    named, is_list = base(kind)
    values: list[Any]
    if isinstance(named, GraphQLEnumType):
        values = ["", "NOT_A_VALUE", "done", 1, *named.values]
    elif not isinstance(named, GraphQLScalarType):
        raise AssertionError(f"no garbage for input type {named} ({arg}); add some")
    elif arg in CURSOR_ARGUMENTS:
        values = FOREIGN_CURSORS
    elif named.name in {"String", "ID"}:
        values = NASTY_STRINGS + FOREIGN_CURSORS[:3]
    elif named.name == "DateTime":
        values = NASTY_TIMES
    elif named.name == "Int":
        values = NASTY_INTS
    elif named.name == "BigInt":
        values = NASTY_BIG_INTS
    elif named.name == "Amount":
        values = NASTY_AMOUNTS
    elif named.name == "Boolean":
        values = [True, False, "yes", 0]
    else:
        raise AssertionError(f"no garbage for {named.name} ({arg}); add some")
    return [[value, value] if is_list else value for value in values]


CASES = [
    (name, arg, value)
    for name, field in sorted(QUERY.fields.items())
    for arg, spec in field.args.items()
    for value in garbage(arg, spec.type)
]


def test_every_argument_of_every_query_has_garbage() -> None:
    covered = {(name, arg) for name, arg, _ in CASES}
    declared = {(name, arg) for name, field in QUERY.fields.items() for arg in field.args}
    assert covered == declared
    assert {("holds", "after"), ("job", "id"), ("postings", "fromTime")} <= covered


def refusal_names(error: dict[str, Any], arg: str) -> bool:
    """A typed refusal names the argument: in its field errors, or in its message (a value
    the schema refused before any resolver ran names the variable)."""
    details = (error.get("extensions") or {}).get("details") or {}
    return arg in (details.get("fieldErrors") or {}) or f"${arg}" in error.get("message", "")


@pytest.fixture
def api_env() -> dict[str, str]:
    """This test sends thousands of reads in a minute on purpose: the per-principal rate limit
    (tested on its own) is off here, so every answer is the argument's own refusal."""
    return {**default_api_env.__wrapped__(), "RATE_LIMIT_REQUESTS_PER_MIN": "0"}  # type: ignore[attr-defined]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("who", ["admin", "m1"])
async def test_garbage_in_any_query_argument_is_a_typed_refusal_never_internal(
    keyed_api: Api, who: str
) -> None:
    await keyed_api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    codes: Counter[str] = Counter()
    problems: list[str] = []
    for name, arg, value in CASES:
        field = QUERY.fields[name]
        variables = {
            other: SANE[other]
            for other, spec in field.args.items()
            if isinstance(spec.type, GraphQLNonNull) and other != arg
        }
        variables[arg] = value
        response = await keyed_api.graphql(document("query", name, field), variables, who=who)
        found = untyped_errors(name, response)
        if found:
            problems.append(f"{name}({arg}: {value!r:.80}): {found[0][:300]}")
            continue
        errors = response.json().get("errors") or []
        for error in errors:
            codes[error["extensions"]["code"]] += 1
        if arg in CURSOR_ARGUMENTS and errors:
            # No error: the value happens to be a cursor of this very list (a holds cursor
            # given to holds); a refusal of it must be VALIDATION_ERROR naming the argument.
            code = errors[0]["extensions"]["code"]
            if code == "FORBIDDEN":
                continue  # the merchant may not read this list at all
            if code != "VALIDATION_ERROR" or not refusal_names(errors[0], arg):
                problems.append(f"{name}({arg}: {value!r:.60}) answered {code}: {errors[:1]}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert codes["VALIDATION_ERROR"] >= len(FOREIGN_CURSORS), codes
    assert "INTERNAL_ERROR" not in codes


async def test_a_foreign_cursor_for_holds_is_a_validation_error_naming_after(api: Api) -> None:
    body = (await api.graphql('{ holds(after: "WzEsMl0=") { nodes { payoutId } } }')).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR", body
    assert "after" in error["extensions"]["details"]["fieldErrors"], body


async def test_a_time_out_of_range_in_utc_is_refused_at_the_scalar(api: Api) -> None:
    query = """query($from: DateTime!, $to: DateTime!) {
      accountMovements(prefix: "fees:", fromTime: $from, toTime: $to) { prefix } }"""
    beyond = {"from": "2026-01-01T00:00:00Z", "to": "9999-12-31T23:59:59-14:00"}
    body = (await api.graphql(query, beyond)).json()
    error = body["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
    assert "$to" in error["message"] and "out of range in UTC" in error["message"], body

"""The API client's answers become typed dataclasses: each result class has exactly the fields
its GraphQL type declares (checked against `schema.graphql`), every data function parses what
its document selects (answers shaped by the schema itself, `fake_api`), and a malformed answer
is a typed `BAD_RESPONSE`, not a KeyError in a page."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)

from tests.unit.dashboard import fake_api
from tests.unit.dashboard.fake_api import SCHEMA
from walletflow_dashboard import commands, data, documents, results
from walletflow_dashboard.api import ApiError, Credential, Me

PYTHON_SCALARS: dict[str, object] = {
    "String": str,
    "DateTime": str,
    "Int": int,
    "BigInt": int,
    "Float": float,
    "Boolean": bool,
    "JSON": Any,
}
CREDENTIAL = Credential("open", "")


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return options[0], True
    return hint, False


@pytest.mark.parametrize("cls", results.RESULT_TYPES, ids=lambda c: c.__name__)
def test_each_result_class_mirrors_its_graphql_type(cls: type) -> None:
    graphql_type = SCHEMA.get_type(cls.GRAPHQL_TYPE)  # type: ignore[attr-defined]
    assert isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType), cls
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        name = results.graphql_name(f.name)
        assert name in graphql_type.fields, f"{cls.__name__}.{f.name}: no {name} in the schema"
        declared = graphql_type.fields[name].type
        hint, optional = _unwrap_optional(hints[f.name])
        nullable = not isinstance(declared, GraphQLNonNull)
        if hint is not Any:
            assert optional == nullable, f"{cls.__name__}.{f.name}: nullability"
        inner = declared.of_type if isinstance(declared, GraphQLNonNull) else declared
        if isinstance(inner, GraphQLList):
            assert typing.get_origin(hint) is list, f"{cls.__name__}.{f.name}: a list"
            (hint,) = typing.get_args(hint)
        named = get_named_type(declared).name
        if dataclasses.is_dataclass(hint):
            assert named == hint.GRAPHQL_TYPE, f"{cls.__name__}.{f.name}"  # type: ignore[union-attr]
        else:
            assert PYTHON_SCALARS[named] is hint, f"{cls.__name__}.{f.name}: {named} as {hint}"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data functions talk to an answer generator shaped by `schema.graphql`."""
    monkeypatch.setattr(data, "graphql", fake_api.graphql)
    monkeypatch.setattr(commands, "graphql", fake_api.graphql)


async def test_every_read_model_parses_the_answer_its_document_selects(api: None) -> None:
    wallets, page = await data.wallets(CREDENTIAL, "m")
    assert wallets[0].available == "NGN/2"  # the API's `formatted`, as sent
    assert page.total == 3 and page.has_next  # the API's totalCount, not the rows shown
    holds, _ = await data.holds(CREDENTIAL, "reserved", "m1", "60")
    assert holds[0].created == "2026-01-31 09:00:00 UTC"
    queue, _ = await data.manual_review_queue(CREDENTIAL)
    assert queue[0].payout_id == "NGN/2"
    assert (await data.recent_transactions(CREDENTIAL))[0].tx_id == "150025"
    tx = await data.transaction(CREDENTIAL, "150025")
    assert tx.found and tx.legs[0].amount == "NGN/2"
    postings, _ = await data.postings(CREDENTIAL, "merchants:m1:")
    assert postings[0].tx_id == "150025"
    assert (await data.payout(CREDENTIAL, "po-1")).found
    assert (await data.balances(CREDENTIAL, account="fees:NGN"))[0].balance == "NGN/2"
    assert (await data.search(CREDENTIAL, "m1"))[0].href == "/account/NGN/2"
    hour, day = await data.failures(CREDENTIAL)
    assert hour[0].count == day[0].count == 3
    assert (await data.failed_commands(CREDENTIAL, 3600, ""))[0].code == "NGN/2"
    assert (await data.access_lists(CREDENTIAL)).allowed_emails == ["NGN/2"]
    assert await data.outbox(CREDENTIAL) == (3, "1.5 s")
    table, mismatches = await data.templates(CREDENTIAL)
    assert table.headers == ["name", "sha256", "loaded", "loadedSha256", "loadedAt"]
    assert mismatches == 0  # every sample template is loaded with the catalog's hash
    rows, page = await data.statement(CREDENTIAL, "m1", "NGN")
    assert rows[0].after == "1,500.25 NGN" and page.total == 3
    foots, totals, lines = await data.trial_balance(CREDENTIAL)
    assert foots and totals.headers == ["asset", "debit", "credit", "net", "foots"]
    assert lines.rows[0][6] == "1,500.25 NGN"  # debitMinor with the row's asset scale
    summaries, _ = await data.alm(CREDENTIAL)
    assert "byClass" in summaries.headers
    assert (await data.gates(CREDENTIAL))[0].detail == "checked 2026-01-31 09:00:00 UTC · K: 1"
    assert len(await data.coa_drift(CREDENTIAL)) == 1
    assert (await data.command_stats(CREDENTIAL)).failed == 3
    for table in (
        await data.drift_table(CREDENTIAL),
        await data.provider_events_table(CREDENTIAL),
        await data.coa_table(CREDENTIAL),
        await data.gl_mappings_table(CREDENTIAL),
        await data.feature_flags(CREDENTIAL),
        await data.api_keys(CREDENTIAL),
    ):
        assert table.note == "" and len(table.rows) == 1, table
    coa_csv, gl_csv = await data.coa_csv(CREDENTIAL)
    assert coa_csv.splitlines()[0].startswith("code,name,kind,account_class,normal_balance")
    assert gl_csv.splitlines()[0].startswith("template,leg,source_kind")


async def test_settings_mutations_and_the_registry_parse_their_answers(api: None) -> None:
    created = await data.create_api_key(CREDENTIAL, "merchant", "m1", "ops")
    assert isinstance(created, results.CreatedApiKey) and created.key.key_id == "NGN/2"
    assert await data.revoke_api_key(CREDENTIAL, "k1") is None  # ApiKeyInfo: revoked
    assert (await commands.registry(CREDENTIAL))[0]["name"] == "NGN/2"
    card, field_errors = await commands.run(
        CREDENTIAL, {"name": "rebuildTemplates", "fields": []}, "key-1", {}
    )
    assert card.ok and card.transaction_id == "150025" and field_errors == {}


def test_every_subscription_result_parses() -> None:
    tx = data.transaction_update(fake_api.answer(documents.TRANSACTIONS_SUBSCRIPTION))
    assert tx.summary == "NGN/2 → NGN/2 NGN/2"
    outbox = fake_api.answer(documents.OUTBOX_SUBSCRIPTION)
    assert data.outbox_update(outbox) == (3, "1.5 s")
    queue = fake_api.answer(documents.MANUAL_REVIEW_QUEUE_SUBSCRIPTION)
    assert len(data.queue_update(queue)) == 1
    gates = data.gates_update(fake_api.answer(documents.GATES_SUBSCRIPTION))
    assert gates[0].ok
    event = data.event_update(fake_api.answer(documents.EVENTS_SUBSCRIPTION))
    assert event.payload == {"k": 1} and event.type == "NGN/2"


def test_big_ints_arrive_as_digits_and_become_ints() -> None:
    line = results.parse(
        results.AssetTotal,
        {"asset": "NGN/2", "debitMinor": "150025", "creditMinor": "-5", "netMinor": 7,
         "foots": False},
    )  # fmt: skip
    assert (line.debit_minor, line.credit_minor, line.net_minor) == (150025, -5, 7)
    assert results.wire(line) == {
        "asset": "NGN/2", "debitMinor": 150025, "creditMinor": -5, "netMinor": 7, "foots": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        ({"asset": "NGN/2", "debitMinor": "1", "creditMinor": "1", "netMinor": "0"}, "foots"),
        ({"asset": "NGN/2", "debitMinor": "1.5", "creditMinor": "1", "netMinor": "0",
          "foots": True}, "debitMinor"),
        ({"asset": None, "debitMinor": "1", "creditMinor": "1", "netMinor": "0",
          "foots": True}, "asset"),
        ({"asset": "NGN/2", "debitMinor": True, "creditMinor": "1", "netMinor": "0",
          "foots": True}, "debitMinor"),
        ("not an object", "not an object"),
    ],
)  # fmt: skip
def test_a_malformed_answer_is_a_bad_response_naming_the_field(answer: Any, complaint: str) -> None:
    with pytest.raises(ApiError) as raised:
        results.parse(results.AssetTotal, answer)
    assert raised.value.code == "BAD_RESPONSE" and complaint in raised.value.message


async def test_a_report_the_api_refuses_is_a_table_note_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuse(credential: Any, query: str, variables: Any = None) -> dict[str, Any]:
        raise ApiError("analysts may not", "FORBIDDEN")

    monkeypatch.setattr(data, "graphql", refuse)
    assert (await data.coa_table(CREDENTIAL)).note == "FORBIDDEN: analysts may not"
    with pytest.raises(ApiError):
        await data.gates(CREDENTIAL)


def test_who_am_i_is_typed_whatever_the_api_leaves_out() -> None:
    me = Me.of({"role": "merchant", "subject": "key:k1", "merchantId": None, "openDev": False})
    assert me == Me(role="merchant", subject="key:k1", merchant_id="")
    assert Me.of({"openDev": True, "googleSignIn": True, "role": "admin"}).open_dev
    with pytest.raises(ApiError):
        Me.of(["not", "an", "object"])

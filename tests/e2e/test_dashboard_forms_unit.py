"""The dashboard's form generation and read-model shaping, without a browser (milliseconds).

These run with the rest of the unit ring (no `e2e` mark): the generated mutation, the input
conversion by field kind, the result card and the generic reporting tables.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dashboard"))

from walletflow_dashboard import commands, data

BRAND_NEW_COMMAND: dict[str, Any] = {
    "name": "chargeDormancyFee",
    "title": "Dormancy fee",
    "description": "Charge a dormant wallet.",
    "group": "money",
    "permission": "operator",
    "movesMoney": True,
    "allowed": True,
    "merchantField": "merchantId",
    "fields": [
        {"name": "merchantId", "kind": "id", "label": "Merchant", "required": True,
         "default": None, "choices": [], "currencyField": None, "help": ""},
        {"name": "currency", "kind": "currency", "label": "Currency", "required": True,
         "default": None, "choices": [], "currencyField": None, "help": ""},
        {"name": "amount", "kind": "amount", "label": "Amount", "required": True,
         "default": None, "choices": [], "currencyField": "currency", "help": ""},
        {"name": "waive", "kind": "boolean", "label": "Waive", "required": False,
         "default": False, "choices": [], "currencyField": None, "help": ""},
        {"name": "notify", "kind": "emails", "label": "Notify", "required": False,
         "default": [], "choices": [], "currencyField": None, "help": ""},
        {"name": "meta", "kind": "json", "label": "Meta", "required": False,
         "default": None, "choices": [], "currencyField": None, "help": ""},
        {"name": "mode", "kind": "choice", "label": "Mode", "required": True,
         "default": None, "choices": ["soft", "hard"], "currencyField": None, "help": ""},
    ],
}  # fmt: skip


def test_a_new_registry_command_gets_a_form_and_a_mutation_with_no_dashboard_code() -> None:
    groups = commands.grouped([BRAND_NEW_COMMAND])
    assert [(g.group, [c.name for c in g.commands]) for g in groups] == [
        ("money", ["chargeDormancyFee"])
    ]
    kinds = [(f.name, f.kind) for f in commands.form_fields(BRAND_NEW_COMMAND)]
    assert ("amount", "amount") in kinds and ("mode", "choice") in kinds
    document = commands.mutation_document(BRAND_NEW_COMMAND)
    assert "$input: ChargeDormancyFeeInput!" in document
    assert "chargeDormancyFee(idempotencyKey: $key, input: $input)" in document


def test_a_command_without_fields_is_sent_without_input() -> None:
    document = commands.mutation_document({"name": "rebuildTemplates", "fields": []})
    assert "input" not in document and "rebuildTemplates(idempotencyKey: $key)" in document


def test_form_strings_become_typed_input_by_field_kind() -> None:
    values = {
        **commands.initial_values(BRAND_NEW_COMMAND),
        "merchantId": "m1",
        "currency": "ngn",
        "amount": " 1500.25 ",
        "waive": "true",
        "notify": "a@x.io, b@x.io\nc@x.io",
        "meta": '{"k": [1, 2]}',
        "mode": "soft",
    }
    variables, errors = commands.input_variables(BRAND_NEW_COMMAND, values)
    assert errors == {}
    assert variables == {
        "merchantId": "m1",
        "currency": "NGN",
        "amount": "1500.25",  # sent as typed: the API parses it with the currency's scale
        "waive": True,
        "notify": ["a@x.io", "b@x.io", "c@x.io"],
        "meta": {"k": [1, 2]},
        "mode": "soft",
    }


def test_missing_required_fields_and_bad_json_are_field_errors_before_any_request() -> None:
    values = {**commands.initial_values(BRAND_NEW_COMMAND), "meta": "{nope"}
    _, errors = commands.input_variables(BRAND_NEW_COMMAND, values)
    assert set(errors) == {"merchantId", "currency", "amount", "mode", "meta"}
    assert errors["meta"].startswith("not valid JSON")


def test_success_card_keeps_the_api_formatted_post_balances_and_replay_flag() -> None:
    card, field_errors = commands.parse_result(
        {
            "__typename": "CommandSuccess",
            "command": "postPayin",
            "status": "completed",
            "reference": "postPayin:abc",
            "transactionId": "42",
            "replayed": True,
            "balances": [
                {"account": "merchants:m1:NGN:available", "asset": "NGN/2",
                 "balanceMinor": "150025", "formatted": "1,500.25 NGN"},
            ],
            "data": {"netMinor": 150025},
        }
    )  # fmt: skip
    assert field_errors == {}
    assert card.ok and card.replayed and card.transaction_id == "42"
    assert card.balances[0].formatted == "1,500.25 NGN"


def test_typed_error_card_carries_the_exact_code_and_field_errors_by_input_name() -> None:
    card, field_errors = commands.parse_result(
        {
            "__typename": "ValidationError",
            "code": "FRACTIONAL_MINOR_UNIT",
            "message": "invalid input",
            "fieldErrors": [{"path": "input.amount", "message": "more than 2 decimal places"}],
        }
    )
    assert not card.ok and card.code == "FRACTIONAL_MINOR_UNIT"
    assert field_errors == {"amount": "more than 2 decimal places"}


def test_amounts_are_written_with_the_currency_scale() -> None:
    assert commands.format_minor(150025, "NGN/2") == "1,500.25 NGN"
    assert commands.format_minor(-5, "NGN/2") == "-0.05 NGN"
    assert commands.format_minor(25000, "UGX") == "25,000 UGX"
    assert commands.format_minor(1, "BHD/3") == "0.001 BHD"
    assert commands.format_minor(1_000_000, "USDC/6") == "1.000000 USDC"
    assert "whole units" in commands.scale_hint("UGX")
    assert "3 decimals" in commands.scale_hint("KWD")
    assert "unknown" in commands.scale_hint("ZZZ")


def test_currency_select_lists_common_currencies_first_then_the_whole_scale_table() -> None:
    codes = commands.currency_codes()
    assert codes[:3] == ["NGN", "USD", "EUR"]
    assert "USDC" in codes and "JPY" in codes and len(codes) == len(set(codes))


def test_gates_render_green_or_red_whatever_shape_the_api_gives_them() -> None:
    as_list = data.gate_rows(
        [{"name": "books_foot", "ok": True, "detail": {}}, {"name": "holds", "ok": False}]
    )
    assert [(g.name, g.ok) for g in as_list] == [("books_foot", True), ("holds", False)]
    as_object = data.gate_rows({"statements": {"green": False, "detail": {"drift": 1}}})
    assert [(g.name, g.ok) for g in as_object] == [("statements", False)]
    by_status = data.gate_rows({"gates": [{"gate": "coa", "status": "GREEN"}]})
    assert [(g.name, g.ok) for g in by_status] == [("coa", True)]


def test_discovered_queries_select_every_scalar_and_skip_pagination() -> None:
    def named(kind: str, name: str) -> dict[str, Any]:
        return {"kind": kind, "name": name, "ofType": None}

    def non_null(inner: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "NON_NULL", "name": None, "ofType": inner}

    schema = data.Schema(
        types={
            "String": {"name": "String", "kind": "SCALAR", "fields": None},
            "Gate": {
                "name": "Gate",
                "kind": "OBJECT",
                "fields": [
                    {"name": "name", "args": [], "type": non_null(named("SCALAR", "String"))},
                    {"name": "detail", "args": [], "type": named("SCALAR", "String")},
                    {"name": "pageInfo", "args": [], "type": named("OBJECT", "PageInfo")},
                ],
            },
            "PageInfo": {"name": "PageInfo", "kind": "OBJECT", "fields": []},
        }
    )
    assert schema.selection({"kind": "LIST", "name": None, "ofType": named("OBJECT", "Gate")}) == (
        "{ name detail }"
    )


def test_generic_tables_take_connections_lists_and_objects() -> None:
    table = data.to_table(data.flatten({"nodes": [{"a": 1, "b": None}, {"a": 2, "c": [1]}]}))
    assert table.headers == ["a", "b", "c"]
    assert table.rows == [["1", "—", "—"], ["2", "—", "[1]"]]
    assert data.to_table([]).note == "nothing yet"

"""Every GraphQL document the dashboard sends is valid against `schema.graphql`, lives in
`documents.py`, and nothing is discovered by introspection at run time."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    FieldNode,
    GraphQLNonNull,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    introspection_from_schema,
    parse,
    validate,
)

from tests.unit.dashboard.fake_api import SCHEMA
from walletflow_dashboard import commands, data, documents

PACKAGE = Path(documents.__file__).resolve().parent
DOCUMENT_SUFFIXES = ("_QUERY", "_MUTATION", "_SUBSCRIPTION")
DOCUMENTS: dict[str, str] = {
    name: value
    for name, value in vars(documents).items()
    if name.endswith(DOCUMENT_SUFFIXES) and isinstance(value, str)
}
# The reports that used to be discovered by introspection, and the root field each asks for.
REPORTS = [
    ("GATES_QUERY", "gates"),
    ("GATES_SUBSCRIPTION", "gates"),
    ("COA_DRIFT_QUERY", "coaDrift"),
    ("COMMAND_STATS_QUERY", "commandStats"),
    ("PROVIDER_EVENTS_QUERY", "providerEvents"),
    ("COA_QUERY", "coa"),
    ("GL_MAPPINGS_QUERY", "glMappings"),
]
GRAPHQL_LITERAL = re.compile(r"^\s*(query|mutation|subscription)\b[^`]*\{", re.DOTALL)


def validation_errors(document: str) -> list[str]:
    return [error.message for error in validate(SCHEMA, parse(document))]


def test_the_dashboard_has_the_documents_it_sends() -> None:
    assert {"COMMANDS_QUERY", "WALLETS_QUERY", "GATES_SUBSCRIPTION"} <= set(DOCUMENTS)
    assert len(DOCUMENTS) >= 25


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_is_valid_against_the_schema(name: str) -> None:
    document = parse(DOCUMENTS[name])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"{name}: one operation per document"
    assert validation_errors(DOCUMENTS[name]) == [], name


def test_a_misspelt_field_fails_validation() -> None:
    typo = documents.WALLETS_QUERY.replace("merchantId currency asset", "merchantID currency")
    assert typo != documents.WALLETS_QUERY
    assert any("merchantID" in message for message in validation_errors(typo))
    missing_argument = documents.STATEMENTS_QUERY.replace("currency: $currency, ", "")
    assert validation_errors(missing_argument)


def registry_mutations() -> list[tuple[str, bool]]:
    """Every registry command in the schema (a mutation taking an idempotency key), and whether
    it takes an input."""
    mutation = SCHEMA.mutation_type
    assert mutation is not None
    return sorted(
        (name, "input" in f.args)
        for name, f in mutation.fields.items()
        if "idempotencyKey" in f.args
    )


def test_the_schema_has_registry_commands_with_and_without_input() -> None:
    takes_input = {has_input for _, has_input in registry_mutations()}
    assert takes_input == {True, False}


@pytest.mark.parametrize(("name", "has_input"), registry_mutations())
def test_the_generated_form_mutation_of_every_registry_command_is_valid(
    name: str, has_input: bool
) -> None:
    fields = [{"name": "x", "kind": "string", "required": True}] if has_input else []
    document = commands.mutation_document({"name": name, "fields": fields})
    assert validation_errors(document) == [], name


def _selection_text(selection_set: SelectionSetNode | None) -> str:
    """A selection set as `data.Schema.selection` writes one: `{ a b { c } }`."""
    if selection_set is None:
        return ""
    parts = []
    for node in selection_set.selections:
        assert isinstance(node, FieldNode)
        sub = _selection_text(node.selection_set)
        parts.append(f"{node.name.value} {sub}" if sub else node.name.value)
    return "{ " + " ".join(parts) + " }"


def _root_field(document: str, name: str) -> FieldNode:
    (operation,) = parse(document).definitions
    assert isinstance(operation, OperationDefinitionNode)
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode) and field.name.value == name
    return field


@pytest.mark.parametrize(("constant", "field_name"), REPORTS)
def test_reports_select_every_column_the_api_has(constant: str, field_name: str) -> None:
    """What introspection used to select for these reports, now fixed in the document: every
    scalar leaf (a field added to the API fails here until the document shows it)."""
    introspection: Any = introspection_from_schema(SCHEMA)
    schema = introspection["__schema"]
    rule = data.Schema(types={t["name"]: t for t in schema["types"]})
    root = "subscriptionType" if constant.endswith("_SUBSCRIPTION") else "queryType"
    root_type = rule.types[schema[root]["name"]]
    spec = next(f for f in root_type["fields"] if f["name"] == field_name)
    field = _root_field(DOCUMENTS[constant], field_name)
    assert _selection_text(field.selection_set) == rule.selection(spec["type"])


def test_the_gates_feed_asks_for_a_debounce_the_api_accepts() -> None:
    field = _root_field(documents.GATES_SUBSCRIPTION, "gates")
    subscription = SCHEMA.subscription_type
    assert subscription is not None
    declared = subscription.fields["gates"].args["debounceMs"]
    assert isinstance(declared.type, GraphQLNonNull)
    assert get_named_type(declared.type).name == "Int"
    assert [a.name.value for a in field.arguments] == ["debounceMs"]


def _string_literals(path: Path) -> list[str]:
    texts: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal head
            head = node.values[0] if node.values else None
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                texts.append(head.value)
    return texts


def test_no_module_but_documents_writes_a_graphql_document() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {text.strip()[:40]!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "documents.py"
        for text in _string_literals(path)
        if GRAPHQL_LITERAL.match(text)
    ]
    assert offenders == []


def test_the_document_finder_sees_a_document_outside_documents_py(tmp_path: Path) -> None:
    module = tmp_path / "stray.py"
    module.write_text('Q = f"query Q {{ wallets(first: {1}) {{ nodes {{ asset }} }} }}"\n')
    assert any(GRAPHQL_LITERAL.match(text) for text in _string_literals(module))


def test_nothing_is_discovered_by_introspection_at_run_time() -> None:
    introspective = [
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        if re.search(r"__schema\b|__type\s*\(", path.read_text())
    ]
    assert introspective == []

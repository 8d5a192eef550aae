"""Every role x every mutation (generated from the registry, so a new command is covered with
no edit here), and a sample of queries: allowed, or Forbidden.

Inputs are generated from each command's field declarations and always pass field validation,
so a refusal can only come from authorization (which runs after validation, before any write).
An allowed command may still fail for business reasons (NotFound, InsufficientFunds, …): the
matrix asserts only that it was not Forbidden.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.api.conftest import Api
from walletflow.api.graphql.errors import camel
from walletflow.service.catalog import build_registry
from walletflow.service.fields import FieldKind, FieldSpec
from walletflow.service.registry import CommandSpec, Permission

ROLES = ("admin", "operator", "m1", "analyst")
REGISTRY = build_registry()


def sample_value(spec: FieldSpec, merchant: str) -> Any:
    samples: dict[FieldKind, Any] = {
        FieldKind.ID: merchant if "merchant" in spec.name else "sample1",
        FieldKind.CURRENCY: "NGN",
        FieldKind.AMOUNT: "1.00",
        FieldKind.TEXT: "role matrix",
        FieldKind.CHOICE: spec.choices[0] if spec.choices else "",
        FieldKind.DATETIME: datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        FieldKind.BOOLEAN: True,
        FieldKind.INTEGER: 1,
        FieldKind.JSON: {"bank": "058", "account": "0123456789"},
        FieldKind.EMAILS: ["op@example.com"],
    }
    return samples[spec.kind]


def sample_input(spec: CommandSpec, merchant: str = "m1") -> dict[str, Any] | None:
    if not spec.fields:
        return None
    return {camel(field.name): sample_value(field, merchant) for field in spec.fields}


def allowed(role: str, spec: CommandSpec) -> bool:
    if role == "admin":
        return True
    if role == "operator":
        return spec.permission is not Permission.ADMIN
    if role == "m1":
        return spec.permission is Permission.MERCHANT
    return False


@pytest.mark.parametrize("name", REGISTRY.names())
async def test_each_role_may_run_mutation_or_is_forbidden(keyed_api: Api, name: str) -> None:
    spec = REGISTRY.get(name)
    wrong: list[tuple[str, dict[str, Any]]] = []
    # Refused roles first, admin last: an allowed run (saveAccessLists, setFeatureFlag) must not
    # change what a later role in the same database is allowed to do.
    for role in ("analyst", "m1", "operator", "admin"):
        result = await keyed_api.mutate(name, sample_input(spec), who=role)
        forbidden = result["__typename"] == "Forbidden" and result["code"] == "FORBIDDEN"
        if forbidden == allowed(role, spec):
            wrong.append((role, result))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "name", [spec.name for spec in REGISTRY if spec.permission is Permission.MERCHANT]
)
async def test_merchant_can_never_run_a_command_for_another_merchant(
    keyed_api: Api, name: str
) -> None:
    spec = REGISTRY.get(name)
    result = await keyed_api.mutate(name, sample_input(spec, merchant="m2"), who="m1")
    assert result["__typename"] == "Forbidden", result


async def test_only_admins_manage_api_keys(keyed_api: Api) -> None:
    create = """mutation { createApiKey(role: "analyst") { __typename } }"""
    revoke = """mutation { revokeApiKey(keyId: "0123456789abcdef") { __typename } }"""
    for role in ROLES:
        created = (await keyed_api.data(create, who=role))["createApiKey"]["__typename"]
        revoked = (await keyed_api.data(revoke, who=role))["revokeApiKey"]["__typename"]
        if role == "admin":
            assert (created, revoked) == ("CreatedApiKey", "NotFound")
        else:
            assert (created, revoked) == ("Forbidden", "Forbidden"), role


# query → roles that may run it (unlisted roles get FORBIDDEN).
QUERIES: dict[str, set[str]] = {
    "{ me { role subject merchantId } }": set(ROLES),
    "{ commands { name allowed fields { name kind required } } }": set(ROLES),
    "{ wallets { nodes { merchantId } } }": set(ROLES),
    "{ holds { nodes { payoutId } } }": set(ROLES),
    "{ transactions { nodes { id } } }": set(ROLES),
    "{ postings { nodes { txId } } }": set(ROLES),
    '{ balances(prefix: "merchants:m1:") { account } }': set(ROLES),
    '{ balances(prefix: "fees:") { account } }': {"admin", "operator", "analyst"},
    "{ featureFlags { scopeType } }": {"admin", "operator", "analyst"},
    "{ outboxStatus { pendingCount } }": {"admin", "operator", "analyst"},
    "{ manualReviewQueue { nodes { payoutId } } }": {"admin", "operator", "analyst"},
    "{ templates { name sha256 loaded } }": {"admin", "operator", "analyst"},
    "{ apiKeys { keyId } }": {"admin"},
    "{ trialBalance { foots totals { asset netMinor } } }": {"admin", "operator", "analyst"},
    "{ alm { summaries { asset netPositionMinor } } }": {"admin", "operator", "analyst"},
    "{ gates(refreshStatements: false) { name ok } }": {"admin", "operator", "analyst"},
    "{ coa { code } glMappings { template } }": {"admin", "operator", "analyst"},
    "{ coaDrift { check } }": {"admin", "operator", "analyst"},
    '{ statements(merchantId: "m1", currency: "NGN") { nodes { seq } } }': set(ROLES),
    '{ statements(merchantId: "m2", currency: "NGN") { nodes { seq } } }': {
        "admin",
        "operator",
        "analyst",
    },
}


@pytest.mark.parametrize("query", list(QUERIES))
async def test_each_role_may_run_query_or_is_forbidden(keyed_api: Api, query: str) -> None:
    for role in ROLES:
        response = await keyed_api.graphql(query, who=role)
        assert response.status_code == 200
        body = response.json()
        if role in QUERIES[query]:
            assert not body.get("errors"), (role, body)
        else:
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, body)


async def test_commands_metadata_says_what_each_role_may_run(keyed_api: Api) -> None:
    query = "{ commands { name allowed } }"
    for role in ROLES:
        commands = (await keyed_api.data(query, who=role))["commands"]
        assert {c["name"] for c in commands} == set(REGISTRY.names())
        for command in commands:
            assert command["allowed"] == allowed(role, REGISTRY.get(command["name"])), (
                role,
                command,
            )

"""Security matrix, the "nothing written" half: every refused request — every mutation x every
way of being refused, and every bad webhook signature — gets a typed error and leaves every
table it could have touched exactly as it was.

The API suite's role matrix proves who is refused; this proves that a refusal writes nothing:
not a ledger transaction, not an idempotency claim (so the key stays usable), not an outbox
event, not a hold, not a command log line, not a provider event, not an API key.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.integration.api.conftest import (
    ADMIN_EMAIL,
    AUTH_TOKEN,
    Api,
    fresh_key,
)
from tests.integration.api.test_role_matrix import sample_input
from tests.reliability.invariants import check_invariants, describe
from walletflow.api.auth.sessions import SESSION_COOKIE
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.providers.signing import SIGNATURE_HEADER, sign
from walletflow.service.catalog import build_registry

REGISTRY = build_registry()
SECRET = "sandbox-dev-secret-not-for-production"
WATCHED_TABLES = (
    "ledger_transactions",
    "ledger_postings",
    "idempotency_claims",
    "outbox",
    "holds",
    "command_log",
    "provider_events",
    "api_keys",
    "merchants",
    "wallets",
    "feature_flags",
    "access_lists",
)
SAMPLE_PAYOUT = "sample1"  # the id every generated input uses for ids (see sample_input)
KEY_MUTATIONS = {
    "createApiKey": 'mutation { createApiKey(role: "admin") { __typename ... on Error { code } } }',
    "revokeApiKey": (
        'mutation { revokeApiKey(keyId: "0123456789abcdef") { __typename ... on Error { code } } }'
    ),
}


async def row_counts(api: Api) -> dict[str, int]:
    async with api.state.container.engine.connect() as connection:
        return {
            table: int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar())
            for table in WATCHED_TABLES
        }


def mutation_document(name: str, has_input: bool) -> str:
    signature = "($key: String!, $input: %sInput!)" % (name[:1].upper() + name[1:])
    arguments = "idempotencyKey: $key, input: $input"
    if not has_input:
        signature, arguments = "($key: String!)", "idempotencyKey: $key"
    return f"""mutation{signature} {{ {name}({arguments}) {{
        __typename ... on Error {{ code message retryable }} }} }}"""


async def attempt(
    api: Api, name: str, merchant: str, who: str | None, headers: dict[str, str]
) -> httpx.Response:
    raw = sample_input(REGISTRY.get(name), merchant)
    variables: dict[str, Any] = {"key": fresh_key()}
    if raw is not None:
        variables["input"] = raw
    return await api.client.post(
        "/graphql",
        json={"query": mutation_document(name, raw is not None), "variables": variables},
        headers={**api.headers_for(who), **headers},
    )


@pytest.fixture
async def populated(keyed_api: Api) -> Api:
    """Two funded merchants and an open payout of m2's, so an allowed command would write."""
    api = keyed_api
    for merchant in ("m1", "m2"):
        await api.mutate("createWallet", {"merchantId": merchant, "currency": "NGN"})
        await api.mutate(
            "postOpeningBalance", {"merchantId": merchant, "currency": "NGN", "amount": "500.00"}
        )
    reserved = await api.mutate(
        "reservePayout",
        {
            "merchantId": "m2",
            "currency": "NGN",
            "amount": "1.00",
            "provider": "sandbox",
            "destination": {"bank": "058", "account": "0123456789"},
            "payoutId": SAMPLE_PAYOUT,
        },
    )
    assert reserved["__typename"] == "CommandSuccess", reserved
    return api


async def assert_every_mutation_refused(
    api: Api,
    *,
    who: str | None,
    merchant: str = "m1",
    headers: dict[str, str] | None = None,
    status: int,
    code: str,
) -> None:
    before = await row_counts(api)
    wrong: list[tuple[str, int, str]] = []
    for name in REGISTRY.names():
        response = await attempt(api, name, merchant, who, headers or {})
        wrong.extend(refusal_mismatch(name, response, status, code))
    for name, document in KEY_MUTATIONS.items():
        response = await api.client.post(
            "/graphql",
            json={"query": document},
            headers={**api.headers_for(who), **(headers or {})},
        )
        wrong.extend(refusal_mismatch(name, response, status, code))
    assert not wrong, wrong
    assert await row_counts(api) == before, "a refused request wrote something"
    violations = await check_invariants(api.state.container.engine)
    assert not violations, describe(violations)


def refusal_mismatch(
    name: str, response: httpx.Response, status: int, code: str
) -> list[tuple[str, int, str]]:
    """[] when `response` is the expected typed refusal, else one line saying what came back."""
    body = response.json()
    if response.status_code == 200 and status == 200:
        result = body.get("data", {}).get(name) if body.get("data") else None
        typename = result.get("__typename") if result else None
        got = result.get("code") if result and typename != "CreatedApiKey" else None
        if got is None and body.get("errors"):
            got = body["errors"][0].get("extensions", {}).get("code")
    else:
        got = body.get("error", {}).get("code")
    if response.status_code == status and got == code:
        return []
    return [(name, response.status_code, str(got))]


async def test_analyst_is_refused_every_mutation_and_nothing_is_written(populated: Api) -> None:
    await assert_every_mutation_refused(populated, who="analyst", status=200, code="FORBIDDEN")


async def test_merchant_on_another_merchants_ids_is_refused_and_nothing_is_written(
    populated: Api,
) -> None:
    await assert_every_mutation_refused(
        populated, who="m1", merchant="m2", status=200, code="FORBIDDEN"
    )


async def test_no_credentials_are_refused_and_nothing_is_written(populated: Api) -> None:
    await assert_every_mutation_refused(populated, who=None, status=401, code="UNAUTHENTICATED")


async def test_an_expired_key_is_refused_and_nothing_is_written(populated: Api) -> None:
    expires = (populated.clock.now() + timedelta(minutes=5)).isoformat()
    await populated.create_key("short", "merchant", "m1", expires_at=expires)
    populated.clock.advance(timedelta(minutes=5, seconds=1))
    await assert_every_mutation_refused(populated, who="short", status=401, code="UNAUTHENTICATED")


async def test_a_revoked_key_is_refused_and_nothing_is_written(populated: Api) -> None:
    key_id = await populated.create_key("gone", "merchant", "m1")
    revoke = "mutation($id: String!) { revokeApiKey(keyId: $id) { __typename } }"
    assert (await populated.data(revoke, {"id": key_id}))["revokeApiKey"]["__typename"] == (
        "ApiKeyInfo"
    )
    await assert_every_mutation_refused(populated, who="gone", status=401, code="UNAUTHENTICATED")


async def test_a_tampered_key_is_refused_and_nothing_is_written(populated: Api) -> None:
    tampered = populated.tokens["m1"][:-2] + "zz"
    await assert_every_mutation_refused(
        populated,
        who=None,
        headers={"authorization": f"Bearer {tampered}"},
        status=401,
        code="UNAUTHENTICATED",
    )


async def test_a_session_whose_email_left_the_allowlist_is_refused_and_nothing_is_written(
    populated: Api,
) -> None:
    saved = await populated.mutate(
        "saveAccessLists", {"allowedEmails": [], "adminEmails": [ADMIN_EMAIL]}
    )
    assert saved["__typename"] == "CommandSuccess", saved
    await assert_every_mutation_refused(
        populated, who="operator", status=401, code="UNAUTHENTICATED"
    )


def payin_body(reference: str) -> bytes:
    return ProviderEvent(
        event_id=f"evt-{reference}",
        event_type=ProviderEventType.PAYIN_RECEIVED,
        provider_reference=reference,
        asset="NGN/2",
        amount_minor=10_000,
        occurred_at=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        merchant_id="m1",
        fee_minor=100,
        vat_minor=50,
    ).to_bytes()


async def post_webhook(api: Api, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return await api.client.post("/webhooks/sandbox", content=body, headers=headers)


async def test_every_bad_webhook_signature_is_refused_typed_and_nothing_is_written(
    populated: Api,
) -> None:
    api = populated
    accepted_body = payin_body("sec-accepted")
    signed_at = int(api.clock.now().timestamp())
    accepted_signature = sign(SECRET, accepted_body, signed_at)
    accepted = await post_webhook(api, accepted_body, accepted_signature)
    assert accepted.status_code == 200, accepted.text

    api.clock.advance(timedelta(hours=1))
    now = int(api.clock.now().timestamp())
    fresh_body = payin_body("sec-fresh")
    header = sign(SECRET, fresh_body, now)
    timestamp, signature = header.split(",")
    cases: dict[str, tuple[bytes, str | None, str]] = {
        "missing": (fresh_body, None, "INVALID_SIGNATURE"),
        "forged": (fresh_body, sign("not-the-secret", fresh_body, now), "INVALID_SIGNATURE"),
        "tampered body": (fresh_body.replace(b"10000", b"99999"), header, "INVALID_SIGNATURE"),
        "tampered timestamp": (fresh_body, f"t={now + 1},{signature}", "INVALID_SIGNATURE"),
        "garbage header": (fresh_body, "v1=zz,t=abc", "INVALID_SIGNATURE"),
        "stale": (fresh_body, sign(SECRET, fresh_body, now - 3600), "STALE_SIGNATURE"),
        "from the future": (fresh_body, sign(SECRET, fresh_body, now + 3600), "STALE_SIGNATURE"),
        "replayed an hour later": (accepted_body, accepted_signature, "STALE_SIGNATURE"),
        "new body under the old signature": (fresh_body, accepted_signature, "INVALID_SIGNATURE"),
    }
    assert timestamp == f"t={now}"
    before = await row_counts(api)
    wrong: dict[str, tuple[int, Any]] = {}
    for case, (body, signature_header, code) in cases.items():
        response = await post_webhook(api, body, signature_header)
        got = response.json().get("error", {}).get("code")
        if (response.status_code, got) != (401, code):
            wrong[case] = (response.status_code, response.json())
    assert not wrong, wrong
    assert await row_counts(api) == before, "a refused webhook wrote something"


async def test_sign_in_cookie_is_httponly_secure_samesite_and_lives_12_hours(api: Api) -> None:
    response = await api.client.post("/auth/token", json={"token": AUTH_TOKEN})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    attributes = {
        part.strip().partition("=")[0].lower(): part.strip().partition("=")[2]
        for part in rest.split(";")[1:]
    }
    assert name == SESSION_COOKIE
    assert "httponly" in attributes and "secure" in attributes
    assert attributes["samesite"].lower() in {"lax", "strict"}
    assert attributes["max-age"] == "43200"
    refused = await api.client.post("/auth/token", json={"token": "wrong-token-0123456789"})
    assert refused.status_code == 401 and "set-cookie" not in refused.headers
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"

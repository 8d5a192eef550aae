"""Issue 17 over real HTTP against a running API (uvicorn in a thread): a merchant can never
credit itself, nobody can squat a provider's pay-in reference, a merchant sees only its own
accounts, payout ids are per merchant, reservePayout refuses unknown rails and bad
destinations, and rate limits answer RATE_LIMITED with a retry-after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.api.conftest import Api
from tests.integration.api.test_role_matrix import sample_input
from walletflow.api.app import create_app
from walletflow.config import load_settings
from walletflow.db.schema_audit import audit_log
from walletflow.db.schema_ledger import ledger_transactions
from walletflow.providers.events import ProviderEvent, ProviderEventType
from walletflow.providers.serving import serve_in_thread
from walletflow.providers.signing import SIGNATURE_HEADER, sign
from walletflow.service.catalog import build_registry
from walletflow.service.clock import ManualClock
from walletflow.service.handlers.payouts import merchant_scoped_payout_id

SECRET = "sandbox-dev-secret-not-for-production"
REGISTRY = build_registry()
DEST = {"bank": "058", "account": "0123456789"}
VALUE_CREATING = [spec.name for spec in REGISTRY if spec.four_eyes or spec.provider_only]
pytestmark = pytest.mark.timeout(120)


@dataclass
class LiveApi(Api):
    key_ids: dict[str, str] = field(default_factory=dict)


async def live_api(
    env: dict[str, str], database_url: str, redis_url: str, redis: Redis
) -> AsyncIterator[LiveApi]:
    clock = ManualClock()
    app = create_app(
        load_settings(env),
        database_url,
        redis_url,
        clock=clock,
        unix_now=lambda: clock.now().timestamp(),
    )
    with serve_in_thread(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=20.0) as client:
            api = LiveApi(app=app, client=client, clock=clock, redis=redis)
            for merchant in ("m1", "m2"):
                api.key_ids[merchant] = await api.create_key(merchant, "merchant", merchant)
            yield api


@pytest.fixture
async def live(
    api_env: dict[str, str], database_url: str, redis_url: str, redis: Redis
) -> AsyncIterator[LiveApi]:
    async for api in live_api(api_env, database_url, redis_url, redis):
        yield api


async def funded(api: Api, *merchants: str, amount: str = "100.00") -> None:
    for merchant in merchants:
        for currency in ("NGN", "USD"):
            created = await api.mutate(
                "createWallet", {"merchantId": merchant, "currency": currency}
            )
            assert created["__typename"] == "CommandSuccess", created
        opened = await api.mutate(
            "postOpeningBalance", {"merchantId": merchant, "currency": "NGN", "amount": amount}
        )
        assert opened["__typename"] == "CommandSuccess", opened


async def transactions(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(ledger_transactions)))


async def available_minor(api: Api, merchant: str, currency: str = "NGN") -> int:
    query = "query($a: [String!]) { balances(accounts: $a) { account balanceMinor } }"
    account = f"merchants:{merchant}:{currency}:available"
    lines = (await api.data(query, {"a": [account]}))["balances"]
    return sum(int(line["balanceMinor"]) for line in lines)


def payin_event(reference: str, merchant: str, amount_minor: int) -> bytes:
    return ProviderEvent(
        event_id=f"evt-{reference}",
        event_type=ProviderEventType.PAYIN_RECEIVED,
        provider_reference=reference,
        asset="NGN/2",
        amount_minor=amount_minor,
        occurred_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        merchant_id=merchant,
    ).to_bytes()


async def deliver(api: Api, body: bytes) -> httpx.Response:
    signature = sign(SECRET, body, int(api.clock.now().timestamp()))
    return await api.client.post(
        "/webhooks/sandbox",
        content=body,
        headers={"content-type": "application/json", SIGNATURE_HEADER: signature},
    )


# --- who may create value ------------------------------------------------------------------


async def test_a_merchant_is_refused_every_value_creating_command_and_nothing_is_written(
    live: Api, engine: AsyncEngine
) -> None:
    await funded(live, "m1")
    before_tx, before_minor = await transactions(engine), await available_minor(live, "m1")
    assert {"postPayin", "postCorrection", "postOpeningBalance", "fundBankAccount"} <= set(
        VALUE_CREATING
    )
    wrong = {}
    for name in VALUE_CREATING:
        result = await live.mutate(name, sample_input(REGISTRY.get(name), "m1"), who="m1")
        if result["__typename"] != "Forbidden" or result["code"] != "FORBIDDEN":
            wrong[name] = result
    assert not wrong, wrong
    assert await transactions(engine) == before_tx
    assert await available_minor(live, "m1") == before_minor


async def test_the_command_list_tells_a_merchant_it_may_not_pay_itself_in(live: Api) -> None:
    query = "{ commands { name allowed fourEyes providerOnly } }"
    commands = {c["name"]: c for c in (await live.data(query, who="m1"))["commands"]}
    assert commands["postPayin"] == {
        "name": "postPayin",
        "allowed": False,
        "fourEyes": True,
        "providerOnly": True,
    }
    assert commands["transfer"]["allowed"] is True and commands["transfer"]["fourEyes"] is False


# --- reference squatting -------------------------------------------------------------------


async def test_nobody_can_squat_a_providers_payin_reference_and_the_real_webhook_succeeds(
    live: Api, engine: AsyncEngine
) -> None:
    await funded(live, "m1", "m2")
    squat = {
        "merchantId": "m1",
        "currency": "NGN",
        "amount": "500.00",
        "provider": "sandbox",
        "providerReference": "sbx-ref-77",
    }
    by_merchant = await live.mutate("postPayin", squat, who="m1")
    assert by_merchant["__typename"] == "Forbidden", by_merchant
    by_key = await live.mutate(
        "createWallet",
        {"merchantId": "m1", "currency": "KES"},
        who="m1",
        key="webhook:sandbox:sbx-ref-77",
    )
    assert by_key["__typename"] == "Forbidden", by_key
    by_operator_key = await live.mutate(
        "postPayin", squat, who="operator", key="webhook:sandbox:sbx-ref-77"
    )
    assert by_operator_key["__typename"] == "Forbidden", by_operator_key
    by_operator = await live.mutate("postPayin", squat, who="operator")
    assert by_operator["__typename"] == "CommandSuccess", by_operator
    assert by_operator["reference"] == "payin-staff:sandbox:sbx-ref-77"

    response = await deliver(live, payin_event("sbx-ref-77", "m2", 25_000))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "processed" and answer["replayed"] is False
    assert answer["result"]["reference"] == "payin:sandbox:sbx-ref-77"
    # The provider sees only its own settlement account, not the merchant's wallet.
    assert {line["account"] for line in answer["result"]["balances"]} == {
        "providers:sandbox:NGN:settlement"
    }
    assert await available_minor(live, "m2") == 10_000 + 25_000


async def test_people_cannot_occupy_the_sagas_idempotency_keys(live: Api) -> None:
    await funded(live, "m1", "m2")
    wallet = {"merchantId": "m1", "currency": "KES"}
    for who in ("m1", "operator"):
        taken = await live.mutate("createWallet", wallet, who=who, key="saga:po_1:settle")
        assert taken["__typename"] == "Forbidden", taken
    ok = await live.mutate("createWallet", wallet, who="operator", key="sagas-are-people-too")
    assert ok["__typename"] == "CommandSuccess", ok


# --- what a merchant sees ------------------------------------------------------------------


async def test_a_transfer_shows_the_sender_only_its_own_wallet(live: Api) -> None:
    await funded(live, "m1", "m2")
    moved = await live.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "0.01"},
        who="m1",
    )
    assert moved["__typename"] == "CommandSuccess", moved
    assert [line["account"] for line in moved["balances"]] == ["merchants:m1:NGN:available"]
    # The same key replayed by the same merchant: still only its own wallet.
    replay_key = "visibility-transfer"
    for _ in range(2):
        again = await live.mutate(
            "transfer",
            {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "0.02"},
            who="m1",
            key=replay_key,
        )
        assert [line["account"] for line in again["balances"]] == ["merchants:m1:NGN:available"]
    # Staff see both sides.
    staff = await live.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "0.01"},
    )
    assert {line["account"] for line in staff["balances"]} == {
        "merchants:m1:NGN:available",
        "merchants:m2:NGN:available",
    }


async def test_an_fx_deal_shows_a_merchant_no_fx_position(live: Api) -> None:
    await funded(live, "m1")
    rate = await live.mutate(
        "setFxRate", {"baseCurrency": "USD", "quoteCurrency": "NGN", "rate": "1500"}
    )
    assert rate["__typename"] == "CommandSuccess", rate
    quote = await live.mutate(
        "fxQuote",
        {"merchantId": "m1", "sellCurrency": "NGN", "buyCurrency": "USD", "sellAmount": "15.00"},
        who="m1",
    )
    assert quote["__typename"] == "CommandSuccess", quote
    deal = await live.mutate(
        "bookFxDeal", {"merchantId": "m1", "quoteId": quote["data"]["quoteId"]}, who="m1"
    )
    assert deal["__typename"] == "CommandSuccess", deal
    accounts = {line["account"] for line in deal["balances"]}
    assert accounts == {"merchants:m1:NGN:available", "merchants:m1:USD:available"}


async def test_a_transaction_view_shows_a_merchant_only_its_postings_and_no_actor(
    live: Api,
) -> None:
    await funded(live, "m1", "m2")
    await live.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "1.00"},
        who="m1",
    )
    payin = await live.mutate(
        "postPayin",
        {
            "merchantId": "m2",
            "currency": "NGN",
            "amount": "10.00",
            "fee": "1.00",
            "vat": "0.07",
            "provider": "sandbox",
        },
    )
    assert payin["__typename"] == "CommandSuccess", payin
    query = """{ transactions(first: 50) { nodes { id metadata
        postings { source destination } } } }"""
    seen = (await live.data(query, who="m2"))["transactions"]["nodes"]
    assert seen
    for tx in seen:
        assert "actor" not in tx["metadata"], tx
        for posting in tx["postings"]:
            assert "merchants:m2:" in (posting["source"] + posting["destination"]), tx
    payin_view = next(tx for tx in seen if tx["id"] == payin["transactionId"])
    # The fee and VAT legs are the house's, not the merchant's.
    assert payin_view["postings"] == [
        {"source": "providers:sandbox:NGN:settlement", "destination": "merchants:m2:NGN:available"}
    ]
    staff = (await live.data(query))["transactions"]["nodes"]
    assert all("actor" in tx["metadata"] for tx in staff)


# --- payouts -------------------------------------------------------------------------------


async def test_two_merchants_may_use_one_payout_id_and_a_conflict_names_only_ones_own(
    live: Api,
) -> None:
    await funded(live, "m1", "m2")
    ids = {}
    for merchant in ("m1", "m2"):
        reserved = await live.mutate(
            "reservePayout",
            {
                "merchantId": merchant,
                "currency": "NGN",
                "amount": "1.00",
                "provider": "sandbox",
                "destination": DEST,
                "payoutId": "invoice-1",
            },
            who=merchant,
        )
        assert reserved["__typename"] == "CommandSuccess", reserved
        assert reserved["data"]["merchantPayoutId"] == "invoice-1"
        ids[merchant] = reserved["data"]["payoutId"]
    assert ids == {m: merchant_scoped_payout_id(m, "invoice-1") for m in ("m1", "m2")}
    again = await live.mutate(
        "reservePayout",
        {
            "merchantId": "m2",
            "currency": "NGN",
            "amount": "2.00",
            "provider": "sandbox",
            "destination": DEST,
            "payoutId": "invoice-1",
        },
        who="m2",
    )
    assert again["__typename"] == "Conflict", again
    assert ids["m1"] not in str(again), "a conflict never reveals another merchant's payout"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"provider": "no-such-rail"}, "provider"),
        ({"currency": "JPY"}, "currency"),
        ({"destination": {}}, "destination.account"),
        ({"destination": {"account": "12"}}, "destination.account"),
        ({"destination": {"account": "0123456789", "note": "x"}}, "destination.note"),
        ({"destination": {"account": "0123456789", "bank": "0 5 8"}}, "destination.bank"),
    ],
)
async def test_reserve_payout_refuses_unknown_rails_and_bad_destinations_with_field_errors(
    live: Api, engine: AsyncEngine, change: dict[str, Any], path: str
) -> None:
    await funded(live, "m1")
    await live.mutate("createWallet", {"merchantId": "m1", "currency": "JPY"})
    before = await transactions(engine)
    raw = {
        "merchantId": "m1",
        "currency": "NGN",
        "amount": "1.00",
        "provider": "sandbox",
        "destination": DEST,
        **change,
    }
    refused = await live.mutate("reservePayout", raw, who="m1")
    assert refused["__typename"] == "ValidationError", refused
    assert path in {error["path"] for error in refused["fieldErrors"]}, refused
    assert await transactions(engine) == before


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
async def limited(
    api_env: dict[str, str], database_url: str, redis_url: str, redis: Redis
) -> AsyncIterator[LiveApi]:
    env = {**api_env, "RATE_LIMIT_REQUESTS_PER_MIN": "6", "RATE_LIMIT_MONEY_PER_MIN": "2"}
    async for api in live_api(env, database_url, redis_url, redis):
        yield api


async def audited_refusals(engine: AsyncEngine) -> list[tuple[str, str | None, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(audit_log.c.actor, audit_log.c.command, audit_log.c.details).where(
                audit_log.c.error_code == "RATE_LIMITED"
            )
        )
        return [(row.actor, row.command, row.details["limit"]) for row in rows]


async def test_money_commands_past_the_limit_are_rate_limited_and_move_nothing(
    limited: LiveApi, engine: AsyncEngine
) -> None:
    await funded(limited, "m1", "m2")
    transfer = {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "0.01"}
    answers = [await limited.mutate("transfer", transfer, who="m1") for _ in range(3)]
    assert [a["__typename"] for a in answers] == ["CommandSuccess", "CommandSuccess", "RateLimited"]
    refused = answers[2]
    assert refused["code"] == "RATE_LIMITED" and refused["retryable"] is True
    assert 1 <= refused["details"]["retryAfterS"] <= 60
    assert await available_minor(limited, "m1") == 10_000 - 2
    # Another merchant has its own budget.
    other = {**transfer, "fromMerchantId": "m2", "toMerchantId": "m1"}
    assert (await limited.mutate("transfer", other, who="m2"))["__typename"] == "CommandSuccess"
    assert await audited_refusals(engine) == [
        ("apikey:" + limited.key_ids["m1"], "transfer", "money")
    ]


async def test_requests_past_the_limit_get_429_with_retry_after(
    limited: LiveApi, engine: AsyncEngine
) -> None:
    query = "{ me { role } }"
    statuses = [(await limited.graphql(query, who="m1")).status_code for _ in range(6)]
    assert statuses == [200] * 6
    refused = await limited.graphql(query, who="m1")
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    body = refused.json()
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["errors"][0]["extensions"] == {
        "code": "RATE_LIMITED",
        "retryable": True,
        "retryAfterS": retry_after,
    }
    # Staff have ten times the budget; the refusal was audited once.
    staff = [(await limited.graphql(query)).status_code for _ in range(8)]
    assert staff == [200] * 8
    assert (await limited.graphql(query, who="m1")).status_code == 429
    assert await audited_refusals(engine) == [("apikey:" + limited.key_ids["m1"], None, "requests")]

"""A merchant, paid in by its provider, transfers and reserves a payout with its API key, and
sees only its own."""

from __future__ import annotations

from tests.integration.api.conftest import Api
from walletflow.service.handlers.payouts import merchant_scoped_payout_id

WALLETS = """query($merchantId: String) { wallets(merchantId: $merchantId, first: 10) {
  edges { node { merchantId currency asset balances {
    available { amountMinor formatted } holds { amountMinor } reserve { amountMinor }
    total { amountMinor } } } }
  pageInfo { hasNextPage endCursor } } }"""
HOLDS = """query($merchantId: String) { holds(merchantId: $merchantId) {
  nodes { payoutId merchantPayoutId merchantId state amountMinor ledgerBalanceMinor } } }"""
TRANSACTIONS = """query($account: String) { transactions(account: $account, first: 20) {
  nodes { id reference postings { source destination asset amountMinor } } } }"""


async def test_merchant_paid_in_transfers_and_reserves_with_an_api_key(keyed_api: Api) -> None:
    api = keyed_api
    for merchant in ("m1", "m2"):
        created = await api.mutate(
            "createWallet", {"merchantId": merchant, "currency": "NGN"}, who=merchant
        )
        assert created["__typename"] == "CommandSuccess", created
    payin = await api.mutate(
        "postPayin",
        {
            "merchantId": "m1",
            "currency": "NGN",
            "amount": "1075.00",
            "fee": "50.00",
            "vat": "25.00",
            "provider": "sandbox",
            "providerReference": "ref-1",
        },
        who="admin",  # a pay-in is a provider fact; a merchant never credits itself
    )
    assert payin["__typename"] == "CommandSuccess", payin
    assert payin["transactionId"] is not None
    transfer = await api.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": 10000},
        who="m1",
    )
    assert transfer["__typename"] == "CommandSuccess", transfer
    reserve = await api.mutate(
        "reservePayout",
        {
            "merchantId": "m1",
            "currency": "NGN",
            "amount": "200.00",
            "provider": "sandbox",
            "destination": {"bank": "058", "account": "0123456789"},
            "payoutId": "po-1",
        },
        who="m1",
    )
    assert reserve["__typename"] == "CommandSuccess", reserve

    wallets = (await api.data(WALLETS, who="m1"))["wallets"]["edges"]
    assert [edge["node"]["merchantId"] for edge in wallets] == ["m1"]
    balances = wallets[0]["node"]["balances"]
    # 1,000.00 net of fee and VAT, minus 100.00 transferred, minus 200.00 held.
    assert balances["available"]["amountMinor"] == "70000"
    assert balances["holds"]["amountMinor"] == "20000"
    assert balances["reserve"]["amountMinor"] == "0"
    assert balances["total"]["amountMinor"] == "90000"

    holds = (await api.data(HOLDS, who="m1"))["holds"]["nodes"]
    payout_id = reserve["data"]["payoutId"]
    assert payout_id == merchant_scoped_payout_id("m1", "po-1")
    assert [
        (h["payoutId"], h["merchantPayoutId"], h["state"], h["ledgerBalanceMinor"]) for h in holds
    ] == [(payout_id, "po-1", "reserved", "20000")]
    transactions = (await api.data(TRANSACTIONS, who="m1"))["transactions"]["nodes"]
    assert len(transactions) == 3
    for tx in transactions:
        assert any(
            p["source"].startswith("merchants:m1:") or p["destination"].startswith("merchants:m1:")
            for p in tx["postings"]
        )

    # m2 sees its own wallet only, and none of m1's holds.
    m2_wallets = (await api.data(WALLETS, who="m2"))["wallets"]["edges"]
    assert [edge["node"]["merchantId"] for edge in m2_wallets] == ["m2"]
    assert m2_wallets[0]["node"]["balances"]["available"]["amountMinor"] == "10000"
    assert (await api.data(HOLDS, who="m2"))["holds"]["nodes"] == []


async def test_merchant_a_can_never_see_or_move_merchant_b_money(keyed_api: Api) -> None:
    api = keyed_api
    await api.mutate("createWallet", {"merchantId": "m2", "currency": "NGN"}, who="m2")
    await api.mutate(
        "postOpeningBalance", {"merchantId": "m2", "currency": "NGN", "amount": "500.00"}
    )
    for query, variables in (
        (WALLETS, {"merchantId": "m2"}),
        (HOLDS, {"merchantId": "m2"}),
        (TRANSACTIONS, {"account": "merchants:m2:"}),
        (TRANSACTIONS, {"account": "fees:"}),
    ):
        body = (await api.graphql(query, variables, who="m1")).json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    stolen = await api.mutate(
        "transfer",
        {"fromMerchantId": "m2", "toMerchantId": "m1", "currency": "NGN", "amount": "1.00"},
        who="m1",
    )
    assert stolen["__typename"] == "Forbidden"
    assert stolen["code"] == "FORBIDDEN"
    payout = await api.mutate(
        "reservePayout",
        {
            "merchantId": "m2",
            "currency": "NGN",
            "amount": "1.00",
            "provider": "sandbox",
            "destination": {"bank": "058", "account": "0123456789"},
        },
        who="m1",
    )
    assert payout["__typename"] == "Forbidden"
    balance = (await api.data(WALLETS, {"merchantId": "m2"}))["wallets"]["edges"][0]
    assert balance["node"]["balances"]["available"]["amountMinor"] == "50000"

"""Analyst reads: fees earned per currency in one query, balances at a point in time, and pages
of wallets and holds whose SQL statement count does not grow with the page (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from tests.integration.api.conftest import Api

FEES_EARNED = """
query FeesEarned($from: DateTime!, $to: DateTime!) {
  accountMovements(prefix: "fees:", fromTime: $from, toTime: $to) {
    byAsset { asset changeMinor formatted }
  }
}"""

WALLETS_PAGE = """{ wallets(first: 50) { nodes { merchantId currency
  balances { available { amountMinor } holds { amountMinor } reserve { amountMinor } } } } }"""
HOLDS_PAGE = """{ holds(first: 50) { nodes { payoutId state amountMinor ledgerBalanceMinor } } }"""


async def _payin(api: Api, merchant: str, currency: str, amount: str, fee: str) -> None:
    await api.mutate("createWallet", {"merchantId": merchant, "currency": currency})
    result = await api.mutate(
        "postPayin",
        {
            "merchantId": merchant,
            "currency": currency,
            "amount": amount,
            "fee": fee,
            "provider": "sandbox",
        },
    )
    assert result["__typename"] == "CommandSuccess", result


async def test_analyst_answers_fees_earned_per_currency_last_week_in_one_query(api: Api) -> None:
    await api.create_key("analyst", "analyst")
    await _payin(api, "m1", "NGN", "1000.00", "15.00")
    await _payin(api, "m2", "NGN", "500.00", "7.50")
    await _payin(api, "m3", "KES", "300.00", "3.00")
    now = datetime.now(UTC)
    last_week = {
        "from": (now - timedelta(days=7)).isoformat(),
        "to": (now + timedelta(minutes=1)).isoformat(),
    }
    data = await api.data(FEES_EARNED, last_week, who="analyst")
    by_asset = data["accountMovements"]["byAsset"]
    assert [(line["asset"], line["changeMinor"]) for line in by_asset] == [
        ("KES/2", "300"),
        ("NGN/2", "2250"),
    ]
    assert "22.50" in by_asset[1]["formatted"]
    week_before = {
        "from": (now - timedelta(days=14)).isoformat(),
        "to": (now - timedelta(days=7)).isoformat(),
    }
    earlier = await api.data(FEES_EARNED, week_before, who="analyst")
    assert earlier["accountMovements"]["byAsset"] == []


async def test_a_time_without_a_timezone_is_a_typed_refusal_not_an_internal_error(
    api: Api,
) -> None:
    """An instant must be unambiguous; found by the GraphQL fuzz: a naive `toTime` against an
    aware `fromTime` failed inside the resolver (INTERNAL_ERROR)."""
    variables = {"from": "2026-01-01T00:00:00+00:00", "to": "2026-01-02T00:00:00"}
    response = await api.graphql(FEES_EARNED, variables)
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "timezone" in error["message"]


async def test_balances_at_a_point_in_time(api: Api) -> None:
    await _payin(api, "m1", "NGN", "10.00", "1.00")
    before = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    query = """query($at: DateTime) {
      balances(prefix: "fees:", at: $at) { account asset balanceMinor } }"""
    now_lines = (await api.data(query, {"at": None}))["balances"]
    assert now_lines == [{"account": "fees:NGN:revenue", "asset": "NGN/2", "balanceMinor": "100"}]
    assert (await api.data(query, {"at": before}))["balances"] == []


@contextmanager
def count_statements(api: Api) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = api.state.resources.engine.sync_engine

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _wallet_with_hold(api: Api, merchant: str) -> None:
    await api.mutate("createWallet", {"merchantId": merchant, "currency": "NGN"})
    await api.mutate(
        "postOpeningBalance", {"merchantId": merchant, "currency": "NGN", "amount": "50.00"}
    )
    result = await api.mutate(
        "reservePayout",
        {
            "merchantId": merchant,
            "currency": "NGN",
            "amount": "5.00",
            "provider": "sandbox",
            "destination": {"bank": "058", "account": "0123456789"},
            "payoutId": f"po-{merchant}",
        },
    )
    assert result["__typename"] == "CommandSuccess", result


async def test_pages_of_wallets_and_holds_are_not_n_plus_one(api: Api) -> None:
    for merchant in ("a1", "a2"):
        await _wallet_with_hold(api, merchant)
    with count_statements(api) as small_wallets:
        small = (await api.data(WALLETS_PAGE))["wallets"]["nodes"]
    with count_statements(api) as small_holds:
        assert len((await api.data(HOLDS_PAGE))["holds"]["nodes"]) == 2
    for index in range(3, 11):
        await _wallet_with_hold(api, f"a{index}")
    with count_statements(api) as large_wallets:
        large = (await api.data(WALLETS_PAGE))["wallets"]["nodes"]
    with count_statements(api) as large_holds:
        holds = (await api.data(HOLDS_PAGE))["holds"]["nodes"]
    assert (len(small), len(large), len(holds)) == (2, 10, 10)
    assert all(w["balances"]["holds"]["amountMinor"] == "500" for w in large)
    assert all(w["balances"]["available"]["amountMinor"] == "4500" for w in large)
    assert all(h["ledgerBalanceMinor"] == "500" for h in holds)
    assert len(large_wallets) == len(small_wallets), (small_wallets, large_wallets)
    assert len(large_holds) == len(small_holds), (small_holds, large_holds)
    assert len(large_wallets) <= 4, large_wallets
    assert len(large_holds) <= 3, large_holds


async def test_postings_and_transactions_filter_by_reference_asset_and_account(api: Api) -> None:
    await _payin(api, "m1", "NGN", "10.00", "1.00")
    await _payin(api, "m2", "KES", "20.00", "2.00")
    page = await api.data('{ transactions(asset: "KES/2") { nodes { reference } } }')
    reference = page["transactions"]["nodes"][0]["reference"]
    query = """query($r: String) { postings(reference: $r) {
      nodes { source destination asset amountMinor } } }"""
    postings = (await api.data(query, {"r": reference}))["postings"]["nodes"]
    assert postings and all(p["asset"] == "KES/2" for p in postings)
    fees = await api.data('{ postings(account: "fees:") { nodes { destination } } }')
    assert sorted(p["destination"] for p in fees["postings"]["nodes"]) == [
        "fees:KES:revenue",
        "fees:NGN:revenue",
    ]

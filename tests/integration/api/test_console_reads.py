"""The console's reads: true totals on every connection, newest-first holds, merchant prefix
filter, global search, deep-link lookups (NOT_FOUND for an unknown id), failed commands by
error code, the currencies that have wallets."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api


async def _wallet_with_holds(api: Api, merchant: str, payouts: int) -> None:
    await api.mutate("createWallet", {"merchantId": merchant, "currency": "NGN"})
    await api.mutate(
        "postOpeningBalance", {"merchantId": merchant, "currency": "NGN", "amount": "500.00"}
    )
    for n in range(payouts):
        result = await api.mutate(
            "reservePayout",
            {
                "merchantId": merchant,
                "currency": "NGN",
                "amount": "5.00",
                "provider": "sandbox",
                "destination": {"bank": "058", "account": "0123456789"},
                "payoutId": f"po-{merchant}-{n}",
            },
        )
        assert result["__typename"] == "CommandSuccess", result


async def _all_pages(api: Api, field: str, query: str, **variables: Any) -> list[Any]:
    nodes: list[Any] = []
    after = None
    while True:
        data = (await api.data(query, {**variables, "after": after}))[field]
        nodes.extend(data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            return nodes
        after = data["pageInfo"]["endCursor"]


WALLETS = """query W($prefix: String, $after: String) {
  wallets(merchantPrefix: $prefix, first: 2, after: $after) {
    totalCount nodes { merchantId } pageInfo { hasNextPage endCursor } } }"""
HOLDS = """query H($newest: Boolean!, $after: String) {
  holds(newestFirst: $newest, first: 2, after: $after) {
    totalCount nodes { payoutId createdAt } pageInfo { hasNextPage endCursor } } }"""


async def test_totals_count_every_page_and_the_prefix_filter_narrows_them(api: Api) -> None:
    for merchant in ("shop-a", "shop-b", "shop-c", "other"):
        await api.mutate("createWallet", {"merchantId": merchant, "currency": "NGN"})
    total = (await api.data(WALLETS, {"prefix": None}))["wallets"]["totalCount"]
    assert total == len(await _all_pages(api, "wallets", WALLETS, prefix=None)) == 4
    shops = await api.data(WALLETS, {"prefix": "shop-"})
    assert shops["wallets"]["totalCount"] == 3
    assert [n["merchantId"] for n in shops["wallets"]["nodes"]] == ["shop-a", "shop-b"]
    # A LIKE wildcard in the prefix is literal.
    assert (await api.data(WALLETS, {"prefix": "shop%"}))["wallets"]["totalCount"] == 0


async def test_holds_page_newest_first_with_the_same_total(api: Api) -> None:
    await _wallet_with_holds(api, "m1", 5)
    oldest = await _all_pages(api, "holds", HOLDS, newest=False)
    newest = await _all_pages(api, "holds", HOLDS, newest=True)
    assert [h["payoutId"] for h in newest] == [h["payoutId"] for h in reversed(oldest)]
    assert len(newest) == 5
    assert (await api.data(HOLDS, {"newest": True}))["holds"]["totalCount"] == 5
    queue = await api.data("{ manualReviewQueue { totalCount } }")
    assert queue["manualReviewQueue"]["totalCount"] == 0


async def test_transactions_postings_and_statements_report_their_totals(api: Api) -> None:
    await _wallet_with_holds(api, "m1", 2)
    account = "merchants:m1:"
    data = await api.data(
        """query T($a: String) { transactions(account: $a, first: 1) { totalCount }
             postings(account: $a, first: 1) { totalCount }
             all: postings(first: 1) { totalCount } }""",
        {"a": account},
    )
    assert data["transactions"]["totalCount"] == 3  # the opening balance and two reserves
    assert data["postings"]["totalCount"] == 3  # one leg of each touches the merchant
    assert data["all"]["totalCount"] >= data["postings"]["totalCount"]
    tx_nodes = await _all_pages(
        api,
        "transactions",
        """query T($a: String, $after: String) { transactions(account: $a, first: 2,
           after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }""",
        a=account,
    )
    assert len(tx_nodes) == 3


async def test_search_finds_merchants_references_transactions_and_payouts(api: Api) -> None:
    await _wallet_with_holds(api, "acme-1", 1)
    search = "query S($t: String!) { search(text: $t) { kind id label } }"

    async def kinds(text: str) -> set[tuple[str, str]]:
        hits = (await api.data(search, {"t": text}))["search"]
        return {(h["kind"], h["id"]) for h in hits}

    assert ("merchant", "acme-1") in await kinds("acme")
    assert ("payout", "po-acme-1-0") in await kinds("po-acme-1")
    txs = (await api.data("{ transactions(first: 1) { nodes { id reference } } }"))["transactions"]
    newest = txs["nodes"][0]
    assert ("transaction", newest["id"]) in await kinds(newest["id"])
    assert ("transaction", newest["id"]) in await kinds(newest["reference"])
    assert ("account", "merchants:acme-1:NGN:available") in await kinds("merchants:acme-1:")
    assert await kinds("no-such-thing-anywhere") == set()
    assert await kinds("   ") == set()


async def test_deep_link_lookups_answer_or_say_not_found(api: Api) -> None:
    await _wallet_with_holds(api, "m1", 1)
    hold = (await api.data('{ hold(payoutId: "po-m1-0") { payoutId state } }'))["hold"]
    assert hold == {"payoutId": "po-m1-0", "state": "reserved"}
    tx_id = (await api.data("{ transactions(first: 1) { nodes { id } } }"))["transactions"]
    found = await api.data(
        "query T($id: BigInt!) { transaction(id: $id) { id } }",
        {"id": tx_id["nodes"][0]["id"]},
    )
    assert found["transaction"]["id"] == tx_id["nodes"][0]["id"]
    for query in (
        '{ hold(payoutId: "nope") { payoutId } }',
        '{ transaction(id: "999999") { id } }',
    ):
        body = (await api.graphql(query)).json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body


async def test_failed_commands_are_counted_by_error_code(api: Api) -> None:
    await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    for _ in range(2):
        refused = await api.mutate(
            "releaseRollingReserve", {"merchantId": "m1", "currency": "NGN", "amount": "99.00"}
        )
        assert refused["__typename"] != "CommandSuccess"
    data = await api.data(
        """{ failuresByCode(windowS: 3600) { errorCode count lastCommand }
             failedCommands(windowS: 3600) { command errorCode } walletCurrencies }"""
    )
    counts = {row["errorCode"]: row["count"] for row in data["failuresByCode"]}
    assert sum(counts.values()) == 2, data
    assert len(data["failedCommands"]) == 2
    assert data["walletCurrencies"] == ["NGN"]

"""Reporting through GraphQL: the trial balance foots, statements carry running balances."""

from __future__ import annotations

from tests.integration.api.conftest import Api

STATEMENTS = """query($m: String!) { statements(merchantId: $m, currency: "NGN", first: 10) {
  nodes { walletAccount amountMinor balanceBeforeMinor balanceAfterMinor formatted }
  pageInfo { hasNextPage } } }"""


async def test_trial_balance_foots_and_statements_show_running_balances(api: Api) -> None:
    await api.mutate("createWallet", {"merchantId": "m1", "currency": "NGN"})
    await api.mutate(
        "postPayin",
        {
            "merchantId": "m1",
            "currency": "NGN",
            "amount": "100.00",
            "fee": "1.00",
            "provider": "sandbox",
        },
    )
    report = await api.data("{ trialBalance { foots totals { asset netMinor foots } } }")
    assert report["trialBalance"]["foots"] is True
    assert [t["asset"] for t in report["trialBalance"]["totals"]] == ["NGN/2"]
    gates = (await api.data("{ gates { name ok detail } }"))["gates"]
    by_name = {gate["name"]: gate["ok"] for gate in gates}
    assert by_name["books_foot"] is True and by_name["statements"] is True, gates
    await api.create_key("m1", "merchant", "m1")
    lines = (await api.data(STATEMENTS, {"m": "m1"}, who="m1"))["statements"]["nodes"]
    available = [line for line in lines if line["walletAccount"] == "available"]
    assert available[0]["balanceBeforeMinor"] == "0"
    assert available[0]["balanceAfterMinor"] == "9900"

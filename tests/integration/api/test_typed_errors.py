"""Every failure is a typed member of the mutation's result union with its stable code."""

from __future__ import annotations

from tests.integration.api.conftest import Api

NGN_WALLET = {"merchantId": "m1", "currency": "NGN"}


async def _funded(api: Api) -> None:
    await api.mutate("createWallet", NGN_WALLET)
    await api.mutate("postOpeningBalance", {**NGN_WALLET, "amount": "100.00"})


async def test_insufficient_funds(api: Api) -> None:
    await _funded(api)
    await api.mutate("createWallet", {"merchantId": "m2", "currency": "NGN"})
    result = await api.mutate(
        "transfer",
        {"fromMerchantId": "m1", "toMerchantId": "m2", "currency": "NGN", "amount": "100.01"},
    )
    assert result["__typename"] == "InsufficientFunds"
    assert result["code"] == "INSUFFICIENT_FUND"
    assert result["retryable"] is False


async def test_validation_errors_name_every_bad_field_by_path(api: Api) -> None:
    result = await api.mutate(
        "postPayin",
        {"merchantId": "not ok!", "currency": "NGN", "amount": "1.001", "provider": "sandbox"},
    )
    assert result["__typename"] == "ValidationError"
    paths = {error["path"] for error in result["fieldErrors"]}
    assert paths == {"merchantId", "amount"}
    unknown = await api.mutate("createWallet", {"merchantId": "m1", "currency": "XXX"})
    assert unknown["__typename"] == "ValidationError"
    assert unknown["code"] == "UNKNOWN_CURRENCY"
    assert [e["path"] for e in unknown["fieldErrors"]] == ["currency"]


async def test_a_float_amount_never_reaches_the_service(api: Api) -> None:
    response = await api.graphql(
        """mutation { postOpeningBalance(idempotencyKey: "k-float",
             input: {merchantId: "m1", currency: "NGN", amount: 1.5}) { __typename } }"""
    )
    body = response.json()
    assert response.status_code == 200
    assert body["errors"] and "Amount" in body["errors"][0]["message"]


async def test_idempotency_key_reused_with_another_body(api: Api) -> None:
    await _funded(api)
    first = await api.mutate("holdRollingReserve", {**NGN_WALLET, "amount": "1.00"}, key="k-r")
    replay = await api.mutate("holdRollingReserve", {**NGN_WALLET, "amount": "1.00"}, key="k-r")
    assert first["__typename"] == replay["__typename"] == "CommandSuccess"
    assert (first["replayed"], replay["replayed"]) == (False, True)
    assert first["transactionId"] == replay["transactionId"]
    other = await api.mutate("holdRollingReserve", {**NGN_WALLET, "amount": "2.00"}, key="k-r")
    assert other["__typename"] == "IdempotencyKeyReused"
    assert other["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_malformed_idempotency_key_is_a_validation_error(api: Api) -> None:
    result = await api.mutate("createWallet", NGN_WALLET, key="has spaces")
    assert result["__typename"] == "ValidationError"
    assert [e["path"] for e in result["fieldErrors"]] == ["idempotencyKey"]


async def test_flag_denied(api: Api) -> None:
    await _funded(api)
    flag = await api.mutate(
        "setFeatureFlag", {"scopeType": "merchant", "scopeValue": "m1", "enabled": False}
    )
    assert flag["__typename"] == "CommandSuccess", flag
    result = await api.mutate("postPayin", {**NGN_WALLET, "amount": "10.00", "provider": "sandbox"})
    assert result["__typename"] == "FlagDenied"
    assert result["code"] == "FLAG_DENIED"


async def test_not_found(api: Api) -> None:
    result = await api.mutate("settleHold", {"payoutId": "no-such-payout"})
    assert result["__typename"] == "NotFound"
    assert result["code"].endswith("NOT_FOUND")


async def test_query_errors_carry_the_code_in_extensions(api: Api) -> None:
    body = (await api.graphql("{ wallets(first: 1000) { nodes { merchantId } } }")).json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    cursor = (await api.graphql('{ holds(after: "garbage") { nodes { payoutId } } }')).json()
    assert cursor["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"

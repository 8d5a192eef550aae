"""HttpRailProvider against the sandbox rail over real HTTP: every scripted behaviour maps to the
right outcome, and nothing ambiguous is ever reported as a failure (DESIGN rule 6)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx

from tests.integration.providers.conftest import CURRENCIES, SECRET, rail_config
from walletflow.providers.config import ProviderConfig
from walletflow.providers.http_rail import (
    REASON_CURRENCY_NOT_SUPPORTED,
    REASON_IDEMPOTENCY_CONFLICT,
    REASON_NOT_FOUND,
    REASON_PROVIDER_ERROR,
    REASON_REJECTED,
    REASON_TIMEOUT,
    REASON_TRANSPORT_ERROR,
    REASON_UNEXPECTED_STATUS,
    REASON_UNPARSABLE,
    HttpRailProvider,
)
from walletflow.providers.port import OutcomeStatus, PayoutRequest, ProviderPort
from walletflow.providers.registry import ProviderRegistry
from walletflow.providers.signing import SIGNATURE_HEADER, request_signing_body, sign


def payout(payout_id: str = "po_1", **overrides: Any) -> PayoutRequest:
    fields: dict[str, Any] = {
        "payout_id": payout_id,
        "merchant_id": "m1",
        "asset": "NGN/2",
        "amount_minor": 150_000,
        "destination": {"bank_code": "058", "account_number": "0123456789"},
        **overrides,
    }
    return PayoutRequest(**fields)


async def script(control: httpx.AsyncClient, payout_id: str, **body: Any) -> None:
    response = await control.post(f"/_scripts/{payout_id}", json=body)
    assert response.status_code == 200, response.text


async def stats(control: httpx.AsyncClient) -> dict[str, Any]:
    response = await control.get("/_stats")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def test_http_rail_implements_the_provider_port() -> None:
    config = rail_config("http://127.0.0.1:1")
    assert isinstance(HttpRailProvider(config), ProviderPort)


async def test_unscripted_payout_succeeds_by_default_with_a_provider_reference(
    rail: HttpRailProvider,
) -> None:
    outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.provider_reference and outcome.provider_reference.startswith("sbx_")
    queried = await rail.query_payout("po_1")
    assert queried.status is OutcomeStatus.SUCCEEDED
    assert queried.provider_reference == outcome.provider_reference


async def test_fail_script_is_a_definitive_failure_with_the_reason(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="fail", reason="account closed")
    outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason == "account closed"
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.FAILED


async def test_validation_refusal_422_is_failed_with_the_providers_reason(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="reject", reason="unknown bank code")
    outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason is not None
    assert outcome.reason.startswith(REASON_REJECTED)
    assert "unknown bank code" in outcome.reason
    assert outcome.raw["http_status"] == 422


async def test_hang_longer_than_the_timeout_is_unknown_never_failed(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="hang", hang_s=2.0, then="succeeded")
    outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.reason == REASON_TIMEOUT
    # The provider did pay: the requery tells the truth the timeout hid.
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.SUCCEEDED


async def test_hanging_query_is_unknown(rail: HttpRailProvider, control: httpx.AsyncClient) -> None:
    await script(control, "po_1", behaviour="hang", hang_s=2.0, hang_queries=True)
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.UNKNOWN
    outcome = await rail.query_payout("po_1")
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.reason == REASON_TIMEOUT


async def test_error_500_is_unknown_on_submit_and_on_every_query(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="error_500")
    submitted = await rail.submit_payout(payout())
    assert submitted.status is OutcomeStatus.UNKNOWN
    assert submitted.reason is not None and submitted.reason.startswith(REASON_PROVIDER_ERROR)
    for _ in range(3):
        assert (await rail.query_payout("po_1")).status is OutcomeStatus.UNKNOWN


async def test_unknown_then_succeed_is_unknown_for_n_queries_then_succeeded(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="unknown_then_succeed", unknown_count=2)
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.UNKNOWN
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.UNKNOWN
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.UNKNOWN
    final = await rail.query_payout("po_1")
    assert final.status is OutcomeStatus.SUCCEEDED
    assert final.provider_reference
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.SUCCEEDED


async def test_unknown_then_fail_is_unknown_then_failed_with_reason(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(
        control, "po_1", behaviour="unknown_then_fail", unknown_count=1, reason="name mismatch"
    )
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.UNKNOWN
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.UNKNOWN
    final = await rail.query_payout("po_1")
    assert final.status is OutcomeStatus.FAILED
    assert final.reason == "name mismatch"


async def test_unknown_as_pending_reports_pending_then_the_final_status(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(
        control, "po_1", behaviour="unknown_then_succeed", unknown_count=1, unknown_as="pending"
    )
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.PENDING
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.PENDING
    assert (await rail.query_payout("po_1")).status is OutcomeStatus.SUCCEEDED


async def test_double_submit_of_one_payout_id_makes_one_payout_at_the_provider(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    first = await rail.submit_payout(payout())
    second = await rail.submit_payout(payout())
    assert first.status is second.status is OutcomeStatus.SUCCEEDED
    assert first.provider_reference == second.provider_reference
    figures = await stats(control)
    assert figures["payouts_total"] == 1
    assert figures["submissions"] == {"po_1": 2}


async def test_concurrent_submits_of_one_payout_id_make_one_payout(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    outcomes = await asyncio.gather(*(rail.submit_payout(payout()) for _ in range(8)))
    assert {o.provider_reference for o in outcomes} == {outcomes[0].provider_reference}
    figures = await stats(control)
    assert figures["payouts_total"] == 1
    assert figures["submissions"]["po_1"] == 8


async def test_resubmit_after_a_timeout_returns_the_existing_payout_not_a_new_one(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="hang", hang_s=1.0, then="succeeded")
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.UNKNOWN
    async with HttpRailProvider(
        ProviderConfig(
            name="sandbox",
            base_url=str(control.base_url),
            secret=SECRET,
            timeout_s=3.0,
            currencies=CURRENCIES,
        )
    ) as patient_rail:
        assert (await patient_rail.submit_payout(payout())).status is OutcomeStatus.SUCCEEDED
    assert (await stats(control))["payouts_total"] == 1


async def test_same_payout_id_with_another_amount_is_unknown_never_failed(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await rail.submit_payout(payout())
    outcome = await rail.submit_payout(payout(amount_minor=999))
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.reason is not None and outcome.reason.startswith(REASON_IDEMPOTENCY_CONFLICT)
    assert (await stats(control))["payouts_total"] == 1


async def test_query_of_a_payout_the_provider_does_not_know_is_unknown_not_found(
    rail: HttpRailProvider,
) -> None:
    outcome = await rail.query_payout("po_never_sent")
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.reason == REASON_NOT_FOUND


async def test_rejected_payout_is_not_created_so_a_query_finds_nothing(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_1", behaviour="reject")
    assert (await rail.submit_payout(payout())).status is OutcomeStatus.FAILED
    assert (await rail.query_payout("po_1")).reason == REASON_NOT_FOUND


async def test_currency_the_provider_does_not_pay_fails_without_calling_it(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    outcome = await rail.submit_payout(payout(asset="XAF"))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason is not None and outcome.reason.startswith(REASON_CURRENCY_NOT_SUPPORTED)
    assert (await stats(control))["submissions_total"] == 0


async def test_connection_refused_is_unknown() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with HttpRailProvider(rail_config(f"http://127.0.0.1:{closed_port}")) as rail:
        submitted = await rail.submit_payout(payout())
        queried = await rail.query_payout("po_1")
    for outcome in (submitted, queried):
        assert outcome.status is OutcomeStatus.UNKNOWN
        assert outcome.reason is not None and outcome.reason.startswith(REASON_TRANSPORT_ERROR)


async def test_sandbox_refuses_requests_signed_with_another_secret_and_that_is_unknown(
    sandbox: str, control: httpx.AsyncClient
) -> None:
    wrong = rail_config(sandbox, secret="not-the-sandbox-secret-at-all")
    async with HttpRailProvider(wrong) as rail:
        outcome = await rail.submit_payout(payout())
    assert outcome.status is OutcomeStatus.UNKNOWN
    assert outcome.raw["http_status"] == 401
    assert (await stats(control))["payouts_total"] == 0


async def test_sandbox_refuses_unsigned_requests(sandbox: str) -> None:
    async with httpx.AsyncClient(base_url=sandbox) as client:
        response = await client.post("/payouts", json=payout().to_json())
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
        response = await client.get("/payouts/po_1")
        assert response.status_code == 401


async def test_a_signature_for_one_endpoint_cannot_be_replayed_on_another(sandbox: str) -> None:
    header = sign(SECRET, request_signing_body("GET", "/payouts/po_a", b""), int(time.time()))
    async with httpx.AsyncClient(base_url=sandbox) as client:
        response = await client.get("/payouts/po_b", headers={SIGNATURE_HEADER: header})
    assert response.status_code == 401


async def test_unparsable_2xx_answers_are_unknown(misbehaving_rail_url: str) -> None:
    async with HttpRailProvider(rail_config(misbehaving_rail_url)) as rail:
        submitted = await rail.submit_payout(payout("po_not_json"))
        not_json = await rail.query_payout("po_not_json")
        weird = await rail.query_payout("po_weird_status")
        other = await rail.query_payout("po_other_id")
        listed = await rail.query_payout("po_list")
        forbidden = await rail.query_payout("po_forbidden")
    for outcome in (submitted, not_json, weird, other, listed):
        assert outcome.status is OutcomeStatus.UNKNOWN
        assert outcome.reason is not None and outcome.reason.startswith(REASON_UNPARSABLE)
    assert forbidden.status is OutcomeStatus.UNKNOWN
    assert forbidden.reason is not None and forbidden.reason.startswith(REASON_UNEXPECTED_STATUS)


async def test_rules_by_merchant_and_amount_and_the_default_script_choose_behaviour(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    rule = {"merchant_id": "m2", "amount_minor": 1313, "script": {"behaviour": "fail"}}
    assert (await control.post("/_rules", json=rule)).status_code == 200
    default = {"behaviour": "error_500"}
    assert (await control.post("/_default_script", json=default)).status_code == 200
    await script(control, "po_scripted", behaviour="succeed")

    by_rule = await rail.submit_payout(payout("po_rule", merchant_id="m2", amount_minor=1313))
    other_amount = await rail.submit_payout(payout("po_amount", merchant_id="m2"))
    scripted = await rail.submit_payout(payout("po_scripted", merchant_id="m2", amount_minor=1313))
    assert by_rule.status is OutcomeStatus.FAILED
    assert other_amount.status is OutcomeStatus.UNKNOWN
    assert scripted.status is OutcomeStatus.SUCCEEDED


async def test_bad_script_is_refused_naming_the_field(control: httpx.AsyncClient) -> None:
    response = await control.post("/_scripts/po_1", json={"behaviour": "hang", "hang_s": 9999})
    assert response.status_code == 422
    assert "hang_s" in response.json()["error"]["details"]["fieldErrors"]
    response = await control.post("/_scripts/po_1", json={"behaviour": "explode"})
    assert "behaviour" in response.json()["error"]["details"]["fieldErrors"]


async def test_reset_forgets_payouts_scripts_and_counts(
    rail: HttpRailProvider, control: httpx.AsyncClient
) -> None:
    await script(control, "po_2", behaviour="fail")
    await rail.submit_payout(payout())
    await control.post("/_reset")
    figures = await stats(control)
    assert figures["payouts_total"] == 0
    assert figures["submissions_total"] == 0
    assert figures["scripts_total"] == 0
    assert (await rail.submit_payout(payout("po_2"))).status is OutcomeStatus.SUCCEEDED


async def test_registry_hands_out_a_working_rail_by_name(sandbox: str) -> None:
    registry = ProviderRegistry([rail_config(sandbox)])
    try:
        outcome = await registry.get("sandbox").submit_payout(payout())
        assert outcome.status is OutcomeStatus.SUCCEEDED
    finally:
        await registry.aclose()

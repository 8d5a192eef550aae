"""The values crossing the provider port, and the `sandbox-provider` command line."""

from __future__ import annotations

from typing import Any

import pytest

from walletflow.domain.errors import ValidationError
from walletflow.entrypoints.cli import build_parser, main
from walletflow.providers.port import OutcomeStatus, PayoutRequest, ProviderOutcome
from walletflow.providers.sandbox_script import Behaviour, Script

GOOD: dict[str, Any] = {
    "payout_id": "po_1",
    "merchant_id": "m1",
    "asset": "NGN/2",
    "amount_minor": 100,
    "destination": {"account_number": "0123456789"},
}


@pytest.mark.parametrize(
    ("change", "bad_field"),
    [
        ({"amount_minor": 0}, "amount_minor"),
        ({"amount_minor": -5}, "amount_minor"),
        ({"amount_minor": 1.5}, "amount_minor"),
        ({"amount_minor": True}, "amount_minor"),
        ({"asset": "naira"}, "asset"),
        ({"payout_id": ""}, "payout_id"),
        ({"payout_id": "po/../1"}, "payout_id"),
        ({"merchant_id": "m 1"}, "merchant_id"),
        ({"destination": {}}, "destination"),
        ({"callback_url": "ftp://x"}, "callback_url"),
    ],
)
def test_payout_request_refuses_bad_fields_by_name(change: dict[str, Any], bad_field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PayoutRequest(**{**GOOD, **change})
    assert bad_field in raised.value.field_errors


def test_only_succeeded_and_failed_are_final() -> None:
    assert {s for s in OutcomeStatus if s.is_final} == {
        OutcomeStatus.SUCCEEDED,
        OutcomeStatus.FAILED,
    }


def test_a_failed_outcome_must_carry_a_reason() -> None:
    with pytest.raises(AssertionError):
        ProviderOutcome(OutcomeStatus.FAILED)


def test_script_defaults_and_validation() -> None:
    assert Script.parse({"behaviour": "hang"}).behaviour is Behaviour.HANG
    with pytest.raises(ValidationError) as raised:
        Script.parse({"behaviour": "succeed", "delay_s": -1, "outcome": "maybe", "x": 1})
    assert {"delay_s", "outcome", "x"} <= set(raised.value.field_errors)


def test_sandbox_provider_help_lists_every_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox-provider", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for behaviour in Behaviour:
        assert behaviour.value in out
    assert "/_scripts/{payout_id}" in out


def test_sandbox_provider_defaults_match_the_seeded_provider() -> None:
    args = build_parser().parse_args(["sandbox-provider"])
    assert (args.host, args.port, args.name) == ("127.0.0.1", 8100, "sandbox")
    assert args.webhook_url == "http://127.0.0.1:8000"
    assert args.default_behaviour == "succeed"


def test_sandbox_provider_refuses_out_of_range_callback_attempts() -> None:
    assert main(["sandbox-provider", "--callback-attempts", "0"]) == 2

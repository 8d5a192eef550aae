"""Webhook and request signatures: HMAC-SHA256 over `"{t}." + body`, header `t=…,v1=…`,
constant-time compare, timestamp tolerance both ways with an injected clock."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from walletflow.domain.errors import InvalidSignature, StaleSignature, Unauthenticated
from walletflow.providers.signing import (
    DEFAULT_TOLERANCE_S,
    compute_signature,
    request_signing_body,
    sign,
    verify,
)

SECRET = "whsec-unit-test-0123456789"
BODY = b'{"event_id":"evt_1","type":"payout.succeeded","amount_minor":150000}'
T = 1_800_000_000


def test_header_is_timestamp_and_v1_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"
    assert compute_signature(SECRET, BODY, T) == expected


def test_valid_signature_within_tolerance_verifies() -> None:
    verify(SECRET, BODY, sign(SECRET, BODY, T), now=T + 10)
    verify(SECRET, BODY, sign(SECRET, BODY, T), now=T - 10)


def test_bytes_and_str_secrets_sign_alike() -> None:
    assert sign(SECRET.encode(), BODY, T) == sign(SECRET, BODY, T)


def test_signature_made_with_another_secret_is_invalid() -> None:
    forged = sign("an-attacker-guessed-secret", BODY, T)
    with pytest.raises(InvalidSignature):
        verify(SECRET, BODY, forged, now=T)


def test_tampered_body_is_invalid() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(InvalidSignature):
        verify(SECRET, BODY.replace(b"150000", b"950000"), header, now=T)


def test_tampered_timestamp_is_invalid_not_merely_stale() -> None:
    header = sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 1}")
    with pytest.raises(InvalidSignature):
        verify(SECRET, BODY, header, now=T)


def test_timestamp_older_than_tolerance_is_stale() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(StaleSignature) as raised:
        verify(SECRET, BODY, header, now=T + DEFAULT_TOLERANCE_S + 1)
    assert raised.value.code == "STALE_SIGNATURE"


def test_timestamp_further_in_the_future_than_tolerance_is_stale() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(StaleSignature):
        verify(SECRET, BODY, header, now=T - DEFAULT_TOLERANCE_S - 1)


def test_timestamp_exactly_at_the_tolerance_edge_is_accepted() -> None:
    header = sign(SECRET, BODY, T)
    verify(SECRET, BODY, header, now=T + DEFAULT_TOLERANCE_S)
    verify(SECRET, BODY, header, now=T - DEFAULT_TOLERANCE_S)


def test_tolerance_is_configurable() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(StaleSignature):
        verify(SECRET, BODY, header, now=T + 31, tolerance_s=30)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        f"v1={'0' * 64}",
        f"t={T}",
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t={T},t={T},v1={'0' * 64}",
        f"t={T},v1=" + "0" * 2000,
    ],
)
def test_missing_or_malformed_header_is_invalid(header: str | None) -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, BODY, header, now=T)


def test_one_matching_signature_among_several_verifies_for_secret_rotation() -> None:
    old = compute_signature("the-old-secret-0123456789", BODY, T)
    new = compute_signature(SECRET, BODY, T)
    verify(SECRET, BODY, f"t={T},v1={old},v1={new}", now=T)


def test_signature_errors_are_unauthenticated_with_stable_codes() -> None:
    assert issubclass(InvalidSignature, Unauthenticated)
    assert issubclass(StaleSignature, Unauthenticated)
    assert InvalidSignature.code == "INVALID_SIGNATURE"
    assert StaleSignature.code == "STALE_SIGNATURE"


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        sign("", BODY, T)


def test_request_signatures_bind_method_and_path() -> None:
    get_a = request_signing_body("GET", "/payouts/po_a", b"")
    assert get_a != request_signing_body("GET", "/payouts/po_b", b"")
    assert get_a != request_signing_body("POST", "/payouts/po_a", b"")
    with pytest.raises(InvalidSignature):
        verify(
            SECRET,
            request_signing_body("GET", "/payouts/po_b", b""),
            sign(SECRET, get_a, T),
            now=T,
        )

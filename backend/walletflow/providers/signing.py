"""HMAC signatures between walletflow and its payout rails, in both directions.

Scheme (the same for provider webhooks and for our signed requests to a rail):

    signed bytes = f"{timestamp}.".encode() + body
    v1           = hex(HMAC-SHA256(provider secret, signed bytes))
    header       = "Walletflow-Signature: t=<unix seconds>,v1=<hex>"

A header may carry several `v1=` entries (secret rotation); one match is enough. Verification
checks the signature first (`InvalidSignature`), then that the timestamp is within
`tolerance_s` of `now`, in either direction (`StaleSignature`), so a captured webhook cannot be
replayed later. Comparison is constant-time. `now` is passed in so tests can move the clock.

Outgoing requests to a rail sign `request_signing_body(method, path, body)` instead of the bare
body, so a signature for one endpoint cannot be replayed against another.
"""

from __future__ import annotations

import hashlib
import hmac

from walletflow.domain.errors import InvalidSignature, StaleSignature

SIGNATURE_HEADER = "Walletflow-Signature"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300
MAX_HEADER_LENGTH = 1024
MAX_SIGNATURES_PER_HEADER = 4


def _key(secret: str | bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not key:
        raise ValueError("a signing secret must not be empty")
    return key


def compute_signature(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """Hex HMAC-SHA256 of `f"{timestamp}.".encode() + body`."""
    message = f"{timestamp}.".encode() + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The `Walletflow-Signature` header value for `body` signed at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},{SIGNATURE_VERSION}={compute_signature(secret, body, timestamp)}"


def _parse_header(header: str) -> tuple[int, list[str]]:
    if not header or len(header) > MAX_HEADER_LENGTH:
        raise InvalidSignature("missing or oversized signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise InvalidSignature("malformed signature header")
        if key == "t":
            if timestamp is not None or not value.isdigit() or len(value) > 12:
                raise InvalidSignature("malformed signature timestamp")
            timestamp = int(value)
        elif key == SIGNATURE_VERSION:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignature("signature header has no timestamp")
    if not signatures:
        raise InvalidSignature(f"signature header has no {SIGNATURE_VERSION} signature")
    if len(signatures) > MAX_SIGNATURES_PER_HEADER:
        raise InvalidSignature("too many signatures in header")
    return timestamp, signatures


def verify(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Return if `header` is a valid signature of `body` within `tolerance_s` of `now` (unix
    seconds); raise `InvalidSignature` or `StaleSignature` otherwise."""
    timestamp, signatures = _parse_header(header or "")
    expected = compute_signature(secret, body, timestamp)
    matched = False
    for candidate in signatures:
        # Evaluate every candidate (no short-circuit) and compare in constant time.
        matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    if not matched:
        raise InvalidSignature("signature does not match")
    if abs(now - timestamp) > tolerance_s:
        raise StaleSignature(
            "signature timestamp outside tolerance",
            details={"timestamp": timestamp, "tolerance_s": tolerance_s},
        )


def request_signing_body(method: str, path: str, body: bytes) -> bytes:
    """What our outgoing request signatures cover: method, path and body."""
    return f"{method.upper()} {path}\n".encode() + body

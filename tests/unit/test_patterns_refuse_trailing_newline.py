"""Every validating pattern anchors at the very end of the string (`\\Z`), not before a final
newline (`$` with `re.match` accepts "m1\\n"): an id, an address or a key with a trailing
newline is refused wherever it is checked."""

from __future__ import annotations

import re

import pytest

from walletflow.domain.accounts import ACCOUNT_NAME_RE, SEGMENT_RE
from walletflow.ledger.port import ACCOUNT_PATTERN
from walletflow.ledger.port import ASSET_PATTERN as LEDGER_ASSET_PATTERN
from walletflow.providers.config import PROVIDER_NAME_PATTERN
from walletflow.providers.events import TEXT_PATTERN
from walletflow.providers.port import MERCHANT_ID_PATTERN, PAYOUT_ID_PATTERN
from walletflow.service.bus import IDEMPOTENCY_KEY_RE

CASES: list[tuple[str, re.Pattern[str], str]] = [
    ("SEGMENT_RE", SEGMENT_RE, "m1"),
    ("ACCOUNT_NAME_RE", ACCOUNT_NAME_RE, "merchants:m1:NGN:available"),
    ("ledger ACCOUNT_PATTERN", ACCOUNT_PATTERN, "merchants:m1:NGN:available"),
    ("ledger ASSET_PATTERN", LEDGER_ASSET_PATTERN, "NGN/2"),
    ("PAYOUT_ID_PATTERN", PAYOUT_ID_PATTERN, "po_1"),
    ("MERCHANT_ID_PATTERN", MERCHANT_ID_PATTERN, "m1"),
    ("PROVIDER_NAME_PATTERN", PROVIDER_NAME_PATTERN, "sandbox"),
    ("provider event TEXT_PATTERN", TEXT_PATTERN, "sbx_ref_1"),
    ("IDEMPOTENCY_KEY_RE", IDEMPOTENCY_KEY_RE, "key-1"),
]


@pytest.mark.parametrize(("name", "pattern", "good"), CASES, ids=[c[0] for c in CASES])
def test_a_trailing_newline_is_refused(name: str, pattern: re.Pattern[str], good: str) -> None:
    assert pattern.match(good), f"{name} accepts {good!r}"
    assert not pattern.match(good + "\n"), f"{name} accepts {good!r} + newline"

"""Merchant webhook and outbox rules: bounded jittered backoff, when a delivery is given up on,
and the documented wire formats."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walletflow.workers.config import OutboxConfig
from walletflow.workers.outbox_relay import stream_fields
from walletflow.workers.webhooks import (
    DeliveryVerdict,
    delivery_verdict,
    webhook_body,
    webhook_delay_s,
)


@st.composite
def outbox_configs(draw: st.DrawFn) -> OutboxConfig:
    base_s = draw(st.floats(min_value=0.001, max_value=3600.0))
    return OutboxConfig(
        webhook_max_attempts=draw(st.integers(1, 100)),
        webhook_backoff_base_s=base_s,
        webhook_backoff_cap_s=draw(st.floats(min_value=base_s, max_value=86_400.0)),
    )


def _ceiling_s(config: OutboxConfig, attempts: int) -> float:
    return min(config.webhook_backoff_cap_s, config.webhook_backoff_base_s * 2 ** (attempts - 1))


@given(config=outbox_configs(), attempts=st.integers(1, 33), seed=st.integers(0, 2**32))
def test_webhook_backoff_is_jittered_between_half_and_all_of_a_capped_exponential(
    config: OutboxConfig, attempts: int, seed: int
) -> None:
    delay_s = webhook_delay_s(config, attempts, random.Random(seed))
    ceiling_s = _ceiling_s(config, attempts)
    assert ceiling_s / 2 <= delay_s <= ceiling_s <= config.webhook_backoff_cap_s


class _TopOfRange(random.Random):
    """Jitter that always picks the top of its range: the worst case."""

    def uniform(self, a: float, b: float) -> float:
        return b


@given(config=outbox_configs(), attempts=st.integers(1, 10_000))
def test_webhook_backoff_never_exceeds_the_cap_however_many_attempts(
    config: OutboxConfig, attempts: int
) -> None:
    always_top = _TopOfRange()
    assert webhook_delay_s(config, attempts, always_top) <= config.webhook_backoff_cap_s
    assert webhook_delay_s(config, attempts, always_top) <= webhook_delay_s(
        config, attempts + 1, always_top
    )


def test_webhook_backoff_counts_attempts_from_one() -> None:
    with pytest.raises(AssertionError):
        webhook_delay_s(OutboxConfig(), 0, random.Random(0))


@given(config=outbox_configs(), attempts=st.integers(1, 200), permanent=st.booleans())
def test_a_delivered_webhook_is_done_whatever_came_before(
    config: OutboxConfig, attempts: int, permanent: bool
) -> None:
    verdict = delivery_verdict(config, attempts, delivered=True, permanent=permanent)
    assert verdict is DeliveryVerdict.DELIVERED


@given(config=outbox_configs(), attempts=st.integers(1, 200))
def test_a_failure_no_retry_can_fix_is_dead_lettered_at_once(
    config: OutboxConfig, attempts: int
) -> None:
    verdict = delivery_verdict(config, attempts, delivered=False, permanent=True)
    assert verdict is DeliveryVerdict.DEAD_LETTER


@given(config=outbox_configs())
def test_a_failing_webhook_is_tried_exactly_max_attempts_times(config: OutboxConfig) -> None:
    verdicts = [
        delivery_verdict(config, attempts, delivered=False, permanent=False)
        for attempts in range(1, config.webhook_max_attempts + 1)
    ]
    assert verdicts[-1] is DeliveryVerdict.DEAD_LETTER
    assert set(verdicts[:-1]) <= {DeliveryVerdict.RETRY}


CREATED_AT = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_a_webhook_body_is_the_documented_compact_sorted_document() -> None:
    body = webhook_body("evt_1", "payout.settled", "m1", {"b": 2, "a": 1}, CREATED_AT)
    assert json.loads(body) == {
        "eventId": "evt_1",
        "type": "payout.settled",
        "merchantId": "m1",
        "createdAt": "2024-05-01T10:00:00+00:00",
        "data": {"a": 1, "b": 2},
    }
    assert body == json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()


def test_a_stream_entry_is_all_strings_with_an_empty_merchant_when_none() -> None:
    fields = stream_fields("evt_1", "fx.rate_set", None, {"b": 2, "a": 1}, CREATED_AT)
    assert fields == {
        "event_id": "evt_1",
        "type": "fx.rate_set",
        "merchant_id": "",
        "payload": '{"a":1,"b":2}',
        "created_at": "2024-05-01T10:00:00+00:00",
    }

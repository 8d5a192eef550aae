"""The workers' tunables, read from the environment in one typed place.

Every retry, batch and backoff of the workers is bounded by a value here. A bad value stops the
worker with one `ConfigError` line naming the variable (same reader as `walletflow.config`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from walletflow.config import ConfigError
from walletflow.providers.config import providers_file


@dataclass(frozen=True)
class SagaConfig:
    requery_max: int = 8
    """Requeries after a non-final answer before the payout goes to manual review."""
    backoff_base_s: float = 1.0
    """First requery delay; doubles on each requery (1 s, 2 s, 4 s, …)."""
    backoff_cap_s: float = 60.0
    """Upper bound of one requery delay."""
    lease_s: float = 30.0
    """How long a worker owns a saga step; must exceed a provider call plus a command."""
    gated_retry_s: float = 30.0
    """Delay before retrying a completion refused by completion gating (a disabled flag)."""
    batch: int = 50
    """Sagas advanced per tick (concurrently)."""
    max_steps_per_claim: int = 4
    """Steps one claim may chain (submit → complete) before handing the saga back."""
    start_scan_batch: int = 200
    """Reserved holds without a saga that one tick starts sagas for (the relay-down backstop)."""

    def __post_init__(self) -> None:
        assert 0 <= self.requery_max <= 1000
        assert 0 < self.backoff_base_s <= self.backoff_cap_s <= 86_400
        assert 0 < self.lease_s <= 3600 and 0 < self.gated_retry_s <= 86_400
        assert 1 <= self.batch <= 1000 and 1 <= self.max_steps_per_claim <= 16
        assert 1 <= self.start_scan_batch <= 10_000


@dataclass(frozen=True)
class OutboxConfig:
    batch: int = 200
    """Outbox events claimed and relayed per transaction."""
    max_batches_per_tick: int = 20
    """Batches one relay tick may relay before yielding to the next tick."""
    stream_maxlen: int = 100_000
    """Approximate length bound of the Redis stream (XADD MAXLEN ~)."""
    webhook_max_attempts: int = 8
    """Webhook attempts before a delivery is dead-lettered."""
    webhook_backoff_base_s: float = 2.0
    webhook_backoff_cap_s: float = 600.0
    webhook_timeout_s: float = 5.0
    webhook_batch: int = 50
    webhook_lease_s: float = 60.0

    def __post_init__(self) -> None:
        assert 1 <= self.batch <= 10_000 and 1 <= self.max_batches_per_tick <= 1000
        assert 100 <= self.stream_maxlen <= 10_000_000
        assert 1 <= self.webhook_max_attempts <= 100
        assert 0 < self.webhook_backoff_base_s <= self.webhook_backoff_cap_s <= 86_400
        assert 0 < self.webhook_timeout_s <= 120 and 1 <= self.webhook_batch <= 1000
        assert self.webhook_timeout_s < self.webhook_lease_s <= 3600


@dataclass(frozen=True)
class WorkerConfig:
    saga: SagaConfig
    outbox: OutboxConfig
    providers_file: Path
    callback_base_url: str | None
    """When set, payouts ask the rail to call back `{callback_base_url}/webhooks/{provider}`."""
    statements_interval_s: int


def load_worker_config(environ: Mapping[str, str] | None = None) -> WorkerConfig:
    env = os.environ if environ is None else environ
    read = _Reader(env)
    saga = SagaConfig(
        requery_max=read.integer("SAGA_REQUERY_MAX", 8, 0, 1000),
        backoff_base_s=read.number("SAGA_BACKOFF_BASE_S", 1.0, 0.001, 3600.0),
        backoff_cap_s=read.number("SAGA_BACKOFF_CAP_S", 60.0, 0.001, 86_400.0),
        lease_s=read.number("SAGA_LEASE_S", 30.0, 0.1, 3600.0),
        gated_retry_s=read.number("SAGA_GATED_RETRY_S", 30.0, 0.01, 86_400.0),
        batch=read.integer("SAGA_BATCH", 50, 1, 1000),
    )
    if saga.backoff_cap_s < saga.backoff_base_s:
        raise ConfigError("SAGA_BACKOFF_CAP_S", "must be at least SAGA_BACKOFF_BASE_S")
    outbox = OutboxConfig(
        batch=read.integer("OUTBOX_BATCH", 200, 1, 10_000),
        stream_maxlen=read.integer("OUTBOX_STREAM_MAXLEN", 100_000, 100, 10_000_000),
        webhook_max_attempts=read.integer("WEBHOOK_MAX_ATTEMPTS", 8, 1, 100),
        webhook_backoff_base_s=read.number("WEBHOOK_BACKOFF_BASE_S", 2.0, 0.001, 3600.0),
        webhook_backoff_cap_s=read.number("WEBHOOK_BACKOFF_CAP_S", 600.0, 0.001, 86_400.0),
        webhook_timeout_s=read.number("WEBHOOK_TIMEOUT_S", 5.0, 0.1, 60.0),
    )
    if outbox.webhook_backoff_cap_s < outbox.webhook_backoff_base_s:
        raise ConfigError("WEBHOOK_BACKOFF_CAP_S", "must be at least WEBHOOK_BACKOFF_BASE_S")
    return WorkerConfig(
        saga=saga,
        outbox=outbox,
        providers_file=providers_file(env),
        callback_base_url=(env.get("PUBLIC_API_URL") or "").strip() or None,
        statements_interval_s=read.integer("STATEMENTS_INTERVAL_S", 5, 1, 3600),
    )


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def _raw(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self._raw(name)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise ConfigError(name, f"must be an integer between {low} and {high} (got {value!r})")
        return int(value)

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, f"must be a number of seconds (got {value!r})") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low:g} and {high:g} (got {value!r})")
        return number

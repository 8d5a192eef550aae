"""Payout rails: the `ProviderPort`, the HTTP adapter, the per-provider registry, webhook
signing and event parsing, and the sandbox rail server (`walletflow sandbox-provider`)."""

from walletflow.providers.events import ProviderEvent, ProviderEventType, parse_provider_event
from walletflow.providers.port import OutcomeStatus, PayoutRequest, ProviderOutcome, ProviderPort

__all__ = [
    "OutcomeStatus",
    "PayoutRequest",
    "ProviderEvent",
    "ProviderEventType",
    "ProviderOutcome",
    "ProviderPort",
    "parse_provider_event",
]

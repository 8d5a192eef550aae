"""Idempotency key namespaces: whose key a key is, by its prefix, so no principal can occupy a
key another will use.

- `webhook:<provider>:…` — only that provider's signed webhook (`provider:<name>`); a provider
  claims no other key. (A key `webhook:sandbox:<ref>` taken first by a person would make the
  real webhook an IDEMPOTENCY_KEY_REUSED.)
- `saga:…` — only the payout saga (`SYSTEM_SAGA`); the saga claims no other key (its completion
  keys are `saga:<payout id>:<completion>`, deterministic so a crashed worker replays).
- anything else — people: merchants (in their own scope), operators, admins and the CLI.

Refusals are `FORBIDDEN` on the `idempotencyKey` field, before anything is claimed.
"""

from __future__ import annotations

from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import SYSTEM_SAGA, Principal

WEBHOOK_KEY_PREFIX = "webhook:"
SAGA_KEY_PREFIX = "saga:"
RESERVED_PREFIXES = (WEBHOOK_KEY_PREFIX, SAGA_KEY_PREFIX)


def owner_prefix(principal: Principal) -> str | None:
    """The prefix every key of `principal` must start with; None: a person's (no reserved
    prefix)."""
    provider = principal.provider
    if provider is not None:
        return f"{WEBHOOK_KEY_PREFIX}{provider}:"
    if principal == SYSTEM_SAGA:
        return SAGA_KEY_PREFIX
    return None


def check_key_namespace(principal: Principal, key: str) -> None:
    """`Forbidden` unless `key` is in `principal`'s own namespace."""
    own = owner_prefix(principal)
    if own is not None:
        if not key.startswith(own):
            raise Forbidden(
                f"{principal.subject} claims only idempotency keys starting with {own!r}",
                details={"idempotencyKey": key, "namespace": own},
            )
        return
    for prefix in RESERVED_PREFIXES:
        if key.startswith(prefix):
            owner = "providers' webhooks" if prefix == WEBHOOK_KEY_PREFIX else "the payout saga"
            raise Forbidden(
                f"idempotency keys starting with {prefix!r} belong to {owner}",
                details={"idempotencyKey": key, "namespace": prefix},
            )

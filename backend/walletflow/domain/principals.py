"""Who is asking: roles, principals, and the idempotency scope each one claims keys in."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    MERCHANT = "merchant"
    ANALYST = "analyst"
    SYSTEM = "system"
    """walletflow itself: provider webhooks, the payout saga, the CLI run by an operator."""


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str
    """An email, an API key id, `provider:<name>`, `saga` or `cli`."""
    merchant_id: str | None = None

    def __post_init__(self) -> None:
        assert (self.role is Role.MERCHANT) == (self.merchant_id is not None), (
            "exactly merchant principals carry a merchant id"
        )

    @property
    def idempotency_scope(self) -> str:
        """Keys are unique per merchant; operators, admins and walletflow itself share one scope
        so that a command retried from the dashboard, the CLI or a webhook is still one command."""
        if self.role is Role.MERCHANT:
            return f"merchant:{self.merchant_id}"
        return "ops"

    @property
    def is_staff(self) -> bool:
        return self.role in {Role.ADMIN, Role.OPERATOR, Role.SYSTEM}

    @property
    def is_admin(self) -> bool:
        """Admins, and walletflow itself (the CLI an operator runs on the server)."""
        return self.role in {Role.ADMIN, Role.SYSTEM}

    @property
    def provider(self) -> str | None:
        """The provider whose signed webhook this is (`provider:<name>`), else None."""
        if self.role is Role.SYSTEM and self.subject.startswith(PROVIDER_SUBJECT_PREFIX):
            return self.subject[len(PROVIDER_SUBJECT_PREFIX) :]
        return None


PROVIDER_SUBJECT_PREFIX = "provider:"
SYSTEM_CLI = Principal(Role.SYSTEM, "cli")
SYSTEM_SAGA = Principal(Role.SYSTEM, "saga")


def provider_principal(provider: str) -> Principal:
    return Principal(Role.SYSTEM, f"{PROVIDER_SUBJECT_PREFIX}{provider}")

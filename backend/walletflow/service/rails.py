"""The payout rails a payout may name: each configured provider and the currencies it pays out
(from the providers file, `seeds/providers.json`). `reservePayout` refuses any other, before
money is held, so nobody can fill the manual-review queue with payouts no rail can make."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from walletflow.domain.errors import ValidationError


@dataclass(frozen=True)
class PayoutRails:
    currencies: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Provider name → the currencies its rail pays out."""

    @classmethod
    def of(cls, rails: Iterable[tuple[str, Iterable[str]]]) -> PayoutRails:
        return cls({name: frozenset(currencies) for name, currencies in rails})

    def check(self, provider: str, currency: str) -> None:
        """A typed field error unless `provider` is a configured rail paying out `currency`."""
        paid = self.currencies.get(provider)
        if paid is None:
            raise ValidationError(
                f"{provider!r} is not a configured payout rail",
                field_errors={"provider": "unknown provider"},
            )
        if currency not in paid:
            raise ValidationError(
                f"{provider} does not pay out {currency}",
                field_errors={"currency": f"not paid out by {provider}"},
            )

"""The one visibility rule: what a principal may read, and what it may see of a movement.

Staff (admins, operators, walletflow itself) and analysts read everything; a merchant reads
only its own merchant's data: its wallets, holds, statements and commands, and the ledger
accounts under `merchants:<its id>:`. Every view, resolver and subscription asks here, so the
rule is written once. (Writes are authorized by the command registry, `service/registry.py`.)

Of the money a command or a transaction moved (command results, transaction views, the
transactions and events subscriptions):
- a merchant sees only its own accounts: never a counterparty's balance, never a house account
  (fees, VAT, providers, banks, FX, suspense, world); a provider's webhook only its own
  `providers:<name>:` accounts;
- actor identifiers (emails, API key ids, `provider:x`) are shown only to staff and analysts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from walletflow.domain.accounts import merchant_prefix
from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import SYSTEM_CLI, Principal, Role
from walletflow.ledger.port import Transaction

ACTOR_KEYS = frozenset({"actor"})
"""Metadata and payload keys that name a person or a credential."""


@dataclass(frozen=True)
class Visibility:
    """What `principal` may read; built once per request (or CLI run)."""

    principal: Principal

    @property
    def own_merchant(self) -> str | None:
        """The merchant whose data alone this principal sees; None when it sees everything."""
        if self.principal.role is Role.MERCHANT:
            assert self.principal.merchant_id is not None
            return self.principal.merchant_id
        return None

    @property
    def sees_everything(self) -> bool:
        return self.own_merchant is None

    def require_everything(self) -> None:
        """For reads across merchants (reporting, flags, outbox, queues): staff and analysts."""
        if not self.sees_everything:
            raise Forbidden("merchants see only their own wallets, holds and transactions")

    def require_admin(self) -> None:
        """For reads of who may sign in (API keys, access lists): admins only."""
        if not self.principal.is_admin:
            raise Forbidden("this needs the admin role")

    def merchant(self, requested: str | None) -> str | None:
        """The merchant a read is limited to: a merchant's own id (asking for another one is
        Forbidden); for staff and analysts, whatever they asked for (None = all)."""
        own = self.own_merchant
        if own is None:
            return requested
        if requested is not None and requested != own:
            raise Forbidden("merchants see only their own data")
        return own

    def account(self, account: str | None) -> str | None:
        """An account filter (an address or a prefix of one) this principal may read: for a
        merchant it must stay under its own `merchants:<id>:` prefix, and no filter means that
        prefix; for everyone else, what was asked for (None = all)."""
        own = self.own_merchant
        if own is None:
            return account
        prefix = merchant_prefix(own)
        if account is None:
            return prefix
        if not account.startswith(prefix):
            raise Forbidden("merchants see only their own accounts", details={"prefix": prefix})
        return account

    def balance_query(self, accounts: Sequence[str] | None, prefix: str | None) -> str | None:
        """The prefix of a balances query by `accounts` or `prefix`, every part of which this
        principal may read (a merchant giving neither reads its own prefix)."""
        if self.sees_everything:
            return prefix
        if accounts is None:
            prefix = self.account(prefix)
        for address in [*(accounts or []), *([prefix] if prefix else [])]:
            self.account(address)
        return prefix

    # --- what it may see of a movement ---------------------------------------------------------
    @property
    def movement_prefix(self) -> str | None:
        """The prefix of every account of a movement this principal sees; None: all of them."""
        own = self.own_merchant
        if own is not None:
            return merchant_prefix(own)
        provider = self.principal.provider
        return None if provider is None else f"providers:{provider}:"

    def sees_account(self, address: str) -> bool:
        prefix = self.movement_prefix
        return prefix is None or address.startswith(prefix)

    @property
    def sees_actors(self) -> bool:
        """Actor identifiers: staff and analysts, never a merchant or a provider."""
        return self.principal.role is not Role.MERCHANT and self.principal.provider is None

    def without_actors(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Transaction metadata or an event payload, less actor identifiers unless allowed."""
        if self.sees_actors:
            return dict(data)
        return {key: value for key, value in data.items() if key not in ACTOR_KEYS}

    def transaction(self, tx: Transaction) -> Transaction:
        """`tx` as this principal may see it: only postings touching an account it sees, and
        no actor identifiers."""
        if self.movement_prefix is None and self.sees_actors:
            return tx
        return replace(
            tx,
            postings=tuple(
                posting
                for posting in tx.postings
                if self.sees_account(posting.source) or self.sees_account(posting.destination)
            ),
            metadata=self.without_actors(tx.metadata),
        )


EVERYTHING = Visibility(SYSTEM_CLI)
"""What the `walletflow` command, run by an operator on the server, reads."""


def within(merchant: str | None, merchant_id: str | None) -> bool:
    """Whether data of `merchant_id` passes a merchant filter from `Visibility.merchant`."""
    return merchant is None or merchant_id == merchant

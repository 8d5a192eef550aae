"""The one visibility rule of the read side: what a principal may read.

Staff (admins, operators, walletflow itself) and analysts read everything; a merchant reads
only its own merchant's data: its wallets, holds, statements and commands, and the ledger
accounts under `merchants:<its id>:`. Every view, resolver and subscription asks here, so the
rule is written once. (Writes are authorized by the command registry, `service/registry.py`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from walletflow.domain.accounts import merchant_prefix
from walletflow.domain.errors import Forbidden
from walletflow.domain.principals import SYSTEM_CLI, Principal, Role


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


EVERYTHING = Visibility(SYSTEM_CLI)
"""What the `walletflow` command, run by an operator on the server, reads."""


def within(merchant: str | None, merchant_id: str | None) -> bool:
    """Whether data of `merchant_id` passes a merchant filter from `Visibility.merchant`."""
    return merchant is None or merchant_id == merchant

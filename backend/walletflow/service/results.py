"""The typed result of a command, stored verbatim in its idempotency claim and replayed forever."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from walletflow.domain.principals import Principal
from walletflow.views.visibility import Visibility


@dataclass(frozen=True)
class BalanceLine:
    account: str
    asset: str
    balance_minor: int


@dataclass(frozen=True)
class CommandResult:
    command: str
    status: str
    """`completed` for every success; the command-specific state is in `data`."""
    reference: str | None = None
    transaction_id: int | None = None
    balances: tuple[BalanceLine, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def visible_to(self, principal: Principal) -> CommandResult:
        """The result as `principal` may see it (`views/visibility.py`): a merchant the balances
        of its own accounts only, never a counterparty's or a house account's. The stored result
        (the idempotency claim) keeps every line; this is applied on the way out, replays too."""
        visibility = Visibility(principal)
        shown = tuple(line for line in self.balances if visibility.sees_account(line.account))
        return self if shown == self.balances else replace(self, balances=shown)

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "status": self.status,
            "reference": self.reference,
            "transactionId": self.transaction_id,
            "balances": [
                {"account": b.account, "asset": b.asset, "balanceMinor": b.balance_minor}
                for b in self.balances
            ],
            "data": self.data,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CommandResult:
        return cls(
            command=body["command"],
            status=body["status"],
            reference=body.get("reference"),
            transaction_id=body.get("transactionId"),
            balances=tuple(
                BalanceLine(line["account"], line["asset"], int(line["balanceMinor"]))
                for line in body.get("balances", [])
            ),
            data=dict(body.get("data", {})),
        )


@dataclass(frozen=True)
class CommandOutcome:
    result: CommandResult
    replayed: bool
    """True when the result is the stored answer to an earlier request with the same key."""

    def visible_to(self, principal: Principal) -> CommandOutcome:
        return replace(self, result=self.result.visible_to(principal))

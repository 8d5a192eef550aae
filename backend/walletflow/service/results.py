"""The typed result of a command, stored verbatim in its idempotency claim and replayed forever."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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

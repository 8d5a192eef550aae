"""Per-principal counters of concurrent things (websocket connections, subscriptions), so no
one principal can hold an unbounded share of the process: each subscription holds a Redis
connection blocked in XREAD, each connection a socket and a task. One counter per API
process, on one event loop (no locks needed); released exactly once per acquire."""

from __future__ import annotations

from walletflow.domain.principals import Principal


class PrincipalSlots:
    def __init__(self, limit: int) -> None:
        assert limit >= 1
        self.limit = limit
        self._held: dict[Principal, int] = {}

    def acquire(self, principal: Principal) -> bool:
        """Take a slot for `principal`; False (and nothing taken) when it holds `limit`."""
        held = self._held.get(principal, 0)
        if held >= self.limit:
            return False
        self._held[principal] = held + 1
        return True

    def release(self, principal: Principal) -> None:
        held = self._held.get(principal, 0)
        assert held > 0, "a slot is released once per acquire"
        if held == 1:
            del self._held[principal]
        else:
            self._held[principal] = held - 1

    def held(self, principal: Principal) -> int:
        return self._held.get(principal, 0)

    def total(self) -> int:
        return sum(self._held.values())

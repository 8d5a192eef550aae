"""The `core_wallet_enabled` feature flag, per merchant / currency / provider scope.

Semantics (documented in README): an explicit `false` on any scope of a command always denies
(a kill switch). In `fail_open` mode, that is the only way to deny. In `fail_closed` mode a
command transacts only if at least one of its scopes is explicitly enabled and none disabled.
Completions (settle/release of a payout) are checked only when completion gating is `gate`.
"""

from __future__ import annotations

from walletflow.config import CompletionGating, FlagMode
from walletflow.domain.errors import FlagDenied
from walletflow.service.repositories import Flags

SCOPE_TYPES = ("merchant", "currency", "provider")
Scope = tuple[str, str]


async def require_enabled(flags: Flags, mode: FlagMode, scopes: list[tuple[str, str]]) -> None:
    check_enabled(mode, scopes, await flags.states(scopes))


def check_enabled(
    mode: FlagMode, scopes: list[tuple[str, str]], states: dict[tuple[str, str], bool]
) -> None:
    """Raise FlagDenied unless `scopes` may transact, given their explicit flag states."""
    assert scopes, "a flag check needs at least one scope"
    for scope_type, _ in scopes:
        assert scope_type in SCOPE_TYPES, scope_type
    disabled = [scope for scope in scopes if states.get(scope) is False]
    if disabled:
        scope_type, scope_value = disabled[0]
        raise FlagDenied(
            f"core wallet is disabled for {scope_type} {scope_value}",
            details={"scopeType": scope_type, "scopeValue": scope_value},
        )
    if mode is FlagMode.FAIL_CLOSED and not any(states.get(scope) for scope in scopes):
        described = ", ".join(f"{kind} {value}" for kind, value in scopes)
        raise FlagDenied(
            f"core wallet is not enabled for any of: {described} (fail_closed)",
            details={"scopes": [list(scope) for scope in scopes]},
        )


def completion_scopes(
    gating: CompletionGating, *, merchant_id: str, currency: str, provider: str
) -> list[Scope]:
    """The scopes a payout completion (settle/release) is checked on: every scope of its hold
    when completion gating is `gate` (a hard freeze), none otherwise (completions record)."""
    if gating is not CompletionGating.GATE:
        return []
    return [("merchant", merchant_id), ("currency", currency), ("provider", provider)]

"""The per-request GraphQL context: who asks, the container, and this request's dataloaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry

from walletflow.api.graphql.loaders import Loaders
from walletflow.api.state import ApiState
from walletflow.bootstrap import Container
from walletflow.domain.errors import Forbidden, Unauthenticated
from walletflow.domain.principals import Principal, Role


@dataclass
class GraphQLContext:
    state: ApiState
    principal: Principal
    credentials: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})
    """The headers and cookies the caller authenticated with (re-checked by subscriptions)."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.state.container)

    @property
    def container(self) -> Container:
        return self.state.container

    async def recheck(self) -> None:
        """Authenticate the same credentials again (allowlist, key expiry and revocation, now);
        `Unauthenticated` if they no longer hold or now name someone else."""
        headers, cookies = self.credentials
        now = await self.state.authenticator.principal(headers, cookies)
        if now != self.principal:
            raise Unauthenticated("credentials changed; reconnect")

    def require_staff_or_analyst(self) -> None:
        if self.principal.role is Role.MERCHANT:
            raise Forbidden("merchants see only their own wallets, holds and transactions")

    def require_admin(self) -> None:
        if self.principal.role not in {Role.ADMIN, Role.SYSTEM}:
            raise Forbidden("this needs the admin role")

    def merchant_scope(self, requested: str | None) -> str | None:
        """The merchant a read is limited to: a merchant's own id (asking for another one is
        Forbidden); for staff and analysts, whatever they asked for (None = all)."""
        own = self.principal.merchant_id
        if self.principal.role is Role.MERCHANT:
            assert own is not None
            if requested is not None and requested != own:
                raise Forbidden("merchants see only their own data")
            return own
        return requested


Info: TypeAlias = strawberry.Info[GraphQLContext, None]

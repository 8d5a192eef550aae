"""The per-request GraphQL context: who asks, the container, and this request's dataloaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry

from walletflow.api.graphql.loaders import Loaders
from walletflow.api.graphql.slots import PrincipalSlots
from walletflow.api.state import ApiState
from walletflow.bootstrap import Container
from walletflow.domain.errors import Forbidden, Unauthenticated
from walletflow.domain.principals import Principal, Role
from walletflow.views.visibility import Visibility


@dataclass
class GraphQLContext:
    state: ApiState
    principal: Principal
    credentials: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})
    """The headers and cookies the caller authenticated with (re-checked by subscriptions)."""
    over_get: bool = False
    """The request came as an HTTP GET: read-only, whoever asks."""
    subscription_slots: PrincipalSlots | None = None
    """The per-principal subscription bound (websockets only)."""
    loaders: Loaders = field(init=False)
    visibility: Visibility = field(init=False)
    """What the principal may read: every resolver passes it to its view."""

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.state.container)
        self.visibility = Visibility(self.principal)

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

    @property
    def read_only(self) -> bool:
        """Analysts (a read-only role) and GET requests never write or rebuild anything."""
        return self.over_get or self.principal.role is Role.ANALYST

    def require_writable(self, what: str) -> None:
        """Refuse `what` (something that writes, such as a statements rebuild) when this
        request is read-only."""
        if self.over_get:
            raise Forbidden(f"{what} writes, and GET requests are read-only: use POST")
        if self.principal.role is Role.ANALYST:
            raise Forbidden(f"{what} writes, and analysts have read-only access")


Info: TypeAlias = strawberry.Info[GraphQLContext, None]

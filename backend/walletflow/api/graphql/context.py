"""The per-request GraphQL context: who asks, the container, and this request's dataloaders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import strawberry

from walletflow.api.graphql.loaders import Loaders
from walletflow.api.state import ApiState
from walletflow.bootstrap import Container
from walletflow.domain.errors import Unauthenticated
from walletflow.domain.principals import Principal
from walletflow.views.visibility import Visibility


@dataclass
class GraphQLContext:
    state: ApiState
    principal: Principal
    credentials: tuple[Mapping[str, str], Mapping[str, str]] = ({}, {})
    """The headers and cookies the caller authenticated with (re-checked by subscriptions)."""
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


Info: TypeAlias = strawberry.Info[GraphQLContext, None]

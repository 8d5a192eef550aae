"""The registry that hands out a `ProviderPort` by provider name (configs: `providers.config`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from walletflow.domain.errors import UnknownProvider, ValidationError
from walletflow.providers.config import ProviderConfig, load_provider_configs
from walletflow.providers.http_rail import HttpRailProvider
from walletflow.providers.port import ProviderPort


class ProviderRegistry:
    """Hands out the rail for a provider name. Rails built here share one httpx client, owned
    by the registry unless one is passed in; `ports` overrides the HTTP rail for some names
    (fakes in tests, another transport)."""

    def __init__(
        self,
        configs: Iterable[ProviderConfig],
        *,
        client: httpx.AsyncClient | None = None,
        ports: Mapping[str, ProviderPort] | None = None,
    ) -> None:
        self._configs: dict[str, ProviderConfig] = {}
        for config in configs:
            if config.name in self._configs:
                raise ValidationError(
                    "duplicate provider", field_errors={"name": f"duplicate {config.name!r}"}
                )
            self._configs[config.name] = config
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        overrides = dict(ports or {})
        unknown = sorted(set(overrides) - set(self._configs))
        if unknown:
            raise UnknownProvider(f"no config for provider(s) {', '.join(unknown)}")
        self._ports: dict[str, ProviderPort] = {
            name: overrides.get(name) or HttpRailProvider(config, self._client)
            for name, config in self._configs.items()
        }

    @classmethod
    def from_file(cls, path: Path, *, client: httpx.AsyncClient | None = None) -> ProviderRegistry:
        return cls(load_provider_configs(path), client=client)

    def names(self) -> list[str]:
        return sorted(self._configs)

    def rails(self) -> list[tuple[str, frozenset[str]]]:
        """(name, currencies) of every configured rail."""
        return [(name, config.currencies) for name, config in sorted(self._configs.items())]

    def config(self, name: str) -> ProviderConfig:
        """The provider's config (the webhook endpoint needs its secret)."""
        try:
            return self._configs[name]
        except KeyError:
            raise UnknownProvider(
                f"unknown provider {name!r}", details={"provider": name}
            ) from None

    def get(self, name: str) -> ProviderPort:
        self.config(name)
        return self._ports[name]

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

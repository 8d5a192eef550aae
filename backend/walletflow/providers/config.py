"""Per-provider configuration: one payout rail's settings, and the providers file they come from.

`seeds/providers.json` (or `PROVIDERS_FILE`):

```json
{"providers": [
  {"name": "sandbox", "base_url": "http://127.0.0.1:8100", "secret": "dev-…",
   "timeout_s": 5.0, "currencies": ["NGN", "KES", "GHS", "UGX", "USD"]}
]}
```

Instead of `secret`, an entry may give `secret_env`: the name of an environment variable holding
the secret (production keeps secrets out of files). Validation errors name the bad field as a
path, e.g. `providers.0.base_url`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from walletflow.domain.errors import ValidationError

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PROVIDERS_FILE = REPO_ROOT / "seeds" / "providers.json"
PROVIDER_NAME_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}\Z")
CURRENCY_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{2,9}\Z")
MAX_TIMEOUT_S = 120.0
MAX_PROVIDERS = 256
DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One payout rail. `name` appears in account addresses (`providers:{name}:…`) and in the
    webhook path (`/webhooks/{name}`); `secret` signs our requests and its webhooks."""

    name: str
    base_url: str
    secret: str = field(repr=False)
    timeout_s: float = DEFAULT_TIMEOUT_S
    currencies: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        errors = _config_errors(self)
        if errors:
            raise ValidationError(f"invalid provider config {self.name!r}", field_errors=errors)

    def supports(self, currency: str) -> bool:
        return currency in self.currencies


def _config_errors(config: ProviderConfig) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(config.name, str) or not PROVIDER_NAME_PATTERN.match(config.name):
        errors["name"] = "must be 1-64 characters of a-z 0-9 _ -"
    parts = urlsplit(config.base_url) if isinstance(config.base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        errors["base_url"] = "must be an http(s) URL with a host"
    elif parts.query or parts.fragment:
        errors["base_url"] = "must not have a query or fragment"
    if not isinstance(config.secret, str) or len(config.secret) < 16:
        errors["secret"] = "must be a string of at least 16 characters"
    if (
        isinstance(config.timeout_s, bool)
        or not isinstance(config.timeout_s, int | float)
        or not 0 < config.timeout_s <= MAX_TIMEOUT_S
    ):
        errors["timeout_s"] = f"must be a number of seconds in (0, {MAX_TIMEOUT_S:g}]"
    if not config.currencies:
        errors["currencies"] = "must list at least one currency"
    else:
        bad = sorted(c for c in config.currencies if not CURRENCY_PATTERN.match(str(c)))
        if bad:
            errors["currencies"] = f"not currency codes: {', '.join(map(str, bad))}"
    return errors


def _entry_to_config(
    entry: Any, index: int, env: Mapping[str, str], errors: dict[str, str]
) -> ProviderConfig | None:
    prefix = f"providers.{index}"
    if not isinstance(entry, dict):
        errors[prefix] = "must be an object"
        return None
    known = {"name", "base_url", "secret", "secret_env", "timeout_s", "currencies"}
    for key in sorted(set(entry) - known):
        errors[f"{prefix}.{key}"] = "unknown field"
    secret = entry.get("secret")
    secret_env = entry.get("secret_env")
    if secret is not None and secret_env is not None:
        errors[f"{prefix}.secret"] = "give either secret or secret_env, not both"
    elif secret_env is not None:
        if not isinstance(secret_env, str) or not env.get(secret_env):
            errors[f"{prefix}.secret_env"] = f"environment variable {secret_env!r} is not set"
        else:
            secret = env[secret_env]
    elif secret is None:
        errors[f"{prefix}.secret"] = "is required (or secret_env)"
    currencies = entry.get("currencies")
    if not isinstance(currencies, list) or not all(isinstance(c, str) for c in currencies):
        errors[f"{prefix}.currencies"] = "must be a list of currency codes"
        currencies = []
    for key in ("name", "base_url"):
        if key not in entry:
            errors[f"{prefix}.{key}"] = "is required"
    if any(key.startswith(prefix + ".") for key in errors):
        return None
    try:
        return ProviderConfig(
            name=entry["name"],
            base_url=entry["base_url"],
            secret=secret if isinstance(secret, str) else "",
            timeout_s=entry.get("timeout_s", DEFAULT_TIMEOUT_S),
            currencies=frozenset(currencies),
        )
    except ValidationError as error:
        for key, reason in error.field_errors.items():
            errors[f"{prefix}.{key}"] = reason
        return None


def load_provider_configs(path: Path, env: Mapping[str, str] | None = None) -> list[ProviderConfig]:
    """Read and validate a providers file; raise `ValidationError` naming every bad field."""
    environment = os.environ if env is None else env
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValidationError(f"cannot read {path}", field_errors={"file": str(error)}) from None
    except ValueError as error:
        raise ValidationError(
            f"{path} is not JSON", field_errors={"file": f"not JSON: {error}"}
        ) from None
    entries = document.get("providers") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValidationError(
            f"invalid providers file {path}", field_errors={"providers": "must be a list"}
        )
    if len(entries) > MAX_PROVIDERS:
        raise ValidationError(
            f"invalid providers file {path}",
            field_errors={"providers": f"at most {MAX_PROVIDERS} providers"},
        )
    errors: dict[str, str] = {}
    configs: list[ProviderConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        config = _entry_to_config(entry, index, environment, errors)
        if config is None:
            continue
        if config.name in seen:
            errors[f"providers.{index}.name"] = f"duplicate provider name {config.name!r}"
            continue
        seen.add(config.name)
        configs.append(config)
    if errors:
        raise ValidationError(f"invalid providers file {path}", field_errors=errors)
    return configs


def providers_file(environ: Mapping[str, str] | None = None) -> Path:
    """The providers file every process reads: `PROVIDERS_FILE`, else `seeds/providers.json`."""
    env = os.environ if environ is None else environ
    return Path(env.get("PROVIDERS_FILE") or DEFAULT_PROVIDERS_FILE)


def rail_currencies(path: Path) -> list[tuple[str, frozenset[str]]]:
    """(name, currencies) of each provider in a providers file, without resolving secrets (a
    process that never calls a rail, such as `walletflow cmd`, need not hold them)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValidationError(f"cannot read {path}", field_errors={"file": str(error)}) from None
    entries = document.get("providers") if isinstance(document, dict) else None
    if not isinstance(entries, list) or len(entries) > MAX_PROVIDERS:
        raise ValidationError(f"invalid providers file {path}", field_errors={"providers": "list"})
    rails: list[tuple[str, frozenset[str]]] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        currencies = entry.get("currencies") if isinstance(entry, dict) else None
        named = isinstance(name, str) and PROVIDER_NAME_PATTERN.match(name)
        if named and isinstance(currencies, list):
            rails.append((str(name), frozenset(c for c in currencies if isinstance(c, str))))
    return rails

"""Provider configs load from JSON with errors that name the bad field; the registry hands out a
rail by name and refuses unknown names with a typed error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from walletflow.domain.errors import NotFound, UnknownProvider, ValidationError
from walletflow.entrypoints.sandbox_provider import DEV_SECRET
from walletflow.providers.config import ProviderConfig, load_provider_configs
from walletflow.providers.port import ProviderPort
from walletflow.providers.registry import ProviderRegistry

REPO_ROOT = Path(__file__).resolve().parents[3]
SEED = REPO_ROOT / "seeds" / "providers.json"
GOOD: dict[str, Any] = {
    "name": "acme",
    "base_url": "https://rail.acme.example/v1",
    "secret": "acme-secret-0123456789",
    "timeout_s": 3,
    "currencies": ["NGN", "GHS"],
}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps(document))
    return path


def errors_for(tmp_path: Path, document: Any, env: dict[str, str] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as raised:
        load_provider_configs(write(tmp_path, document), env=env or {})
    return raised.value.field_errors


def test_seed_file_has_the_sandbox_rail_on_port_8100() -> None:
    [sandbox] = load_provider_configs(SEED, env={})
    assert sandbox.name == "sandbox"
    assert sandbox.base_url == "http://127.0.0.1:8100"
    assert {"NGN", "KES", "GHS", "UGX", "USD"} <= sandbox.currencies
    assert sandbox.timeout_s == 5.0


def test_seed_sandbox_secret_is_the_sandbox_servers_default() -> None:
    [sandbox] = load_provider_configs(SEED, env={})
    assert sandbox.secret == DEV_SECRET


def test_good_file_loads(tmp_path: Path) -> None:
    [config] = load_provider_configs(write(tmp_path, {"providers": [GOOD]}), env={})
    assert config == ProviderConfig(
        name="acme",
        base_url="https://rail.acme.example/v1",
        secret="acme-secret-0123456789",
        timeout_s=3,
        currencies=frozenset({"NGN", "GHS"}),
    )


@pytest.mark.parametrize(
    ("change", "bad_field"),
    [
        ({"base_url": "ftp://rail.example"}, "base_url"),
        ({"base_url": "not a url"}, "base_url"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": 600}, "timeout_s"),
        ({"timeout_s": "5"}, "timeout_s"),
        ({"currencies": []}, "currencies"),
        ({"currencies": ["naira"]}, "currencies"),
        ({"currencies": "NGN"}, "currencies"),
        ({"secret": "short"}, "secret"),
        ({"secret": 12345678901234567890}, "secret"),
        ({"name": "Has Spaces"}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_field_is_named_with_its_path(
    tmp_path: Path, change: dict[str, Any], bad_field: str
) -> None:
    errors = errors_for(tmp_path, {"providers": [{**GOOD, **change}]})
    assert f"providers.0.{bad_field}" in errors


@pytest.mark.parametrize("missing", ["name", "base_url", "secret"])
def test_missing_field_is_named(tmp_path: Path, missing: str) -> None:
    entry = {k: v for k, v in GOOD.items() if k != missing}
    assert f"providers.0.{missing}" in errors_for(tmp_path, {"providers": [entry]})


def test_duplicate_provider_names_are_refused(tmp_path: Path) -> None:
    assert "providers.1.name" in errors_for(tmp_path, {"providers": [GOOD, GOOD]})


@pytest.mark.parametrize("document", [[], {"providers": {}}, {"rails": []}])
def test_file_without_a_providers_list_is_refused(tmp_path: Path, document: Any) -> None:
    assert "providers" in errors_for(tmp_path, document)


def test_unreadable_or_non_json_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        load_provider_configs(tmp_path / "absent.json")
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ValidationError) as raised:
        load_provider_configs(path)
    assert "file" in raised.value.field_errors


def test_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    entry = {**{k: v for k, v in GOOD.items() if k != "secret"}, "secret_env": "ACME_SECRET"}
    path = write(tmp_path, {"providers": [entry]})
    [config] = load_provider_configs(path, env={"ACME_SECRET": "from-the-env-0123456789"})
    assert config.secret == "from-the-env-0123456789"
    assert "providers.0.secret_env" in errors_for(tmp_path, {"providers": [entry]}, env={})


def test_secret_is_not_shown_in_repr() -> None:
    config = ProviderConfig(**{**GOOD, "currencies": frozenset(GOOD["currencies"])})
    assert GOOD["secret"] not in repr(config)


async def test_registry_gives_a_provider_port_by_name() -> None:
    config = ProviderConfig(**{**GOOD, "currencies": frozenset(GOOD["currencies"])})
    registry = ProviderRegistry([config])
    try:
        assert isinstance(registry.get("acme"), ProviderPort)
        assert registry.config("acme") is config
        assert registry.names() == ["acme"]
    finally:
        await registry.aclose()


async def test_unknown_provider_is_a_typed_not_found() -> None:
    registry = ProviderRegistry([])
    try:
        with pytest.raises(UnknownProvider) as raised:
            registry.get("ghost")
        assert isinstance(raised.value, NotFound)
        assert raised.value.code == "UNKNOWN_PROVIDER"
        with pytest.raises(UnknownProvider):
            registry.config("ghost")
    finally:
        await registry.aclose()

"""compose.yaml documents the production shape; its names must match what the code reads."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import yaml

from walletflow import config

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"
REQUIRED_SERVICES = {"postgres", "redis", "api", "worker", "dashboard"}
OUR_SERVICES = {"api", "worker", "dashboard"}


def _compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def _settings_read_by_config() -> set[str]:
    source = inspect.getsource(config.load_settings)
    return set(re.findall(r'get\.\w+\(\s*"([A-Z_]+)"', source))


def test_compose_has_the_production_services_with_healthchecks() -> None:
    services = _compose()["services"]
    assert set(services) >= REQUIRED_SERVICES
    for name in ("postgres", "redis", "api", "dashboard"):
        assert "healthcheck" in services[name], name


def test_every_environment_name_in_compose_is_a_setting_config_reads() -> None:
    known = _settings_read_by_config()
    services = _compose()["services"]
    for name in OUR_SERVICES:
        environment = services[name]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{name} sets unknown settings {sorted(unknown)}"


def test_production_services_run_in_production_mode_with_explicit_services() -> None:
    for name in OUR_SERVICES:
        environment = _compose()["services"][name]["environment"]
        assert environment["ENV"] == "production"
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["REDIS_URL"].startswith("redis://")

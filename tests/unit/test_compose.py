"""compose.yaml documents the production shape; its names must match what the code reads."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import yaml

from walletflow import config
from walletflow.entrypoints.cli import build_parser

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
    for name, service in _built_services().items():
        environment = service["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{name} sets unknown settings {sorted(unknown)}"


def test_production_services_run_in_production_mode_with_explicit_services() -> None:
    for service in _built_services().values():
        environment = service["environment"]
        assert environment["ENV"] == "production"
        assert environment["DATABASE_URL"].startswith("postgresql://")
        assert environment["REDIS_URL"].startswith("redis://")


# -- the image compose builds ------------------------------------------------------------------

ROOT = COMPOSE.parent
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
PYPROJECT = ROOT / "pyproject.toml"
MAKEFILE = ROOT / "Makefile"
_PROJECT_INSTALL_RE = re.compile(r"pip install\b[^\n]*?(-e\s+)?'\.(\[[a-z,]*\])?'")


def _built_services() -> dict[str, dict[str, Any]]:
    """The services compose builds from this repository (the walletflow image)."""
    return {name: s for name, s in _compose()["services"].items() if s.get("build") == "."}


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def _arguments(instruction: str) -> list[str]:
    return [arguments for name, arguments in _instructions() if name == instruction]


def _exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), arguments
    return value


def _assert_walletflow_command(argv: list[str], where: str) -> None:
    assert argv[0] == "walletflow", f"{where} runs {argv[0]!r}, not the walletflow command"
    try:
        args = build_parser().parse_args(argv[1:])
    except SystemExit:
        raise AssertionError(f"{where}: `{' '.join(argv)}` is not a walletflow command") from None
    assert hasattr(args, "func"), f"{where}: `{' '.join(argv)}` names a group, not a command"


def _section(markdown: str, title: str) -> str:
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def _project_installs(source: str) -> set[tuple[bool, frozenset[str]]]:
    """Every `pip install [-e] '.[extras]'` of this project: (editable, extras)."""
    return {
        (bool(editable), frozenset(filter(None, extras.strip("[]").split(","))))
        for editable, extras in _PROJECT_INSTALL_RE.findall(source)
    }


def test_every_service_of_ours_is_built_from_the_dockerfile() -> None:
    assert DOCKERFILE.is_file()
    assert set(_built_services()) >= OUR_SERVICES


def test_every_command_compose_runs_is_a_walletflow_command() -> None:
    for name, service in _built_services().items():
        _assert_walletflow_command(service["command"], f"compose service {name}")
    (cmd,) = _arguments("CMD")
    _assert_walletflow_command(_exec_form(cmd), "the Dockerfile's CMD")


def test_a_command_that_does_not_exist_is_caught() -> None:
    for argv in (["walletflow", "serve-forever"], ["walletflow", "backup"], ["uvicorn", "x"]):
        try:
            _assert_walletflow_command(argv, "probe")
        except AssertionError:
            continue
        raise AssertionError(f"{argv} was accepted")


def test_the_image_installs_the_project_as_the_readme_says() -> None:
    readme = _section(README.read_text(), "Deployment")
    documented = _project_installs(readme)
    assert len(documented) == 1, documented
    runs = "\n".join(_arguments("RUN"))
    assert _project_installs(runs) == documented
    # A developer's install (make) is the image's plus the dev tools.
    ((editable, extras),) = documented
    ((make_editable, make_extras),) = _project_installs(MAKEFILE.read_text())
    assert (make_editable, make_extras) == (editable, extras | {"dev"})
    # bun comes the same way: the toolchain script, as the README shows it.
    assert "bash scripts/install_dashboard_toolchain.sh --no-chromium" in readme
    assert "scripts/install_dashboard_toolchain.sh --no-chromium" in runs
    assert "reflex export" in runs


def test_the_image_runs_the_python_the_project_requires() -> None:
    images = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert len(images) == 1 and images[0].startswith("python:3.11-slim"), images
    froms = _arguments("FROM")
    assert froms and all(f.startswith("${PYTHON_IMAGE}") for f in froms), froms
    requires = re.search(r'requires-python = "(.+)"', PYPROJECT.read_text())
    assert requires is not None and requires.group(1) == ">=3.11,<3.12"
    assert "Python 3.11" in " ".join(_section(README.read_text(), "Deployment").split())


def test_the_image_runs_as_a_non_root_user_with_a_healthz_healthcheck() -> None:
    users = _arguments("USER")
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    (healthcheck,) = _arguments("HEALTHCHECK")
    assert "/healthz" in healthcheck
    assert len(_arguments("FROM")) >= 2, "a multi-stage build"


def test_make_lint_runs_hadolint_on_the_dockerfile() -> None:
    lint = MAKEFILE.read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "hadolint Dockerfile" in lint

"""The `walletflow` command: sub-commands listed, bad settings are one line and exit 2."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from walletflow.entrypoints.cli import build_parser, main


def _walletflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "walletflow", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def test_help_lists_the_process_sub_commands() -> None:
    help_text = build_parser().format_help()
    for command in ("serve", "worker", "run", "db"):
        assert command in help_text


def test_bad_setting_prints_one_line_and_exits_2() -> None:
    result = _walletflow("serve", LEDGER_BACKEND="mysql")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "walletflow: configuration error: LEDGER_BACKEND: must be one of postgres, formance "
        "(got 'mysql')"
    )
    assert "Traceback" not in result.stderr


def test_production_without_auth_does_not_start() -> None:
    result = _walletflow("serve", ENV="production")
    assert result.returncode == 2
    assert "AUTH_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_sub_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2


def test_every_sub_command_module_is_registered_and_lives_in_entrypoints() -> None:
    import walletflow
    import walletflow.entrypoints
    from walletflow.entrypoints.cli import SUBCOMMANDS

    package_dir = Path(walletflow.__file__).parent
    entrypoints_dir = Path(walletflow.entrypoints.__file__).parent
    defining = {
        path
        for path in package_dir.rglob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "add_parser"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    }
    assert {path.parent for path in defining} == {entrypoints_dir}
    assert {path.stem for path in defining} == {
        module.__name__.rsplit(".", 1)[1] for module in SUBCOMMANDS
    }

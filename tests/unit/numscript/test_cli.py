"""`walletflow numscript run|check`: the exact stdout/exit-code contract, never a traceback."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from walletflow.entrypoints import numscript as cli

SCRIPT = """vars {
  monetary $amt
  account $dest
}
send $amt (
  source = @merchants:m1:wallet
  destination = $dest
)
set_tx_meta("note", $amt)
set_account_meta($dest, "last", $amt)
"""


def _invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="walletflow")
    cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "pay.num"
    path.write_text(SCRIPT)
    return path


def test_run_prints_postings_and_metadata_as_compact_json(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _invoke(
        [
            "numscript", "run", str(script),
            "--vars", '{"amt":"NGN/2 10000","dest":"merchants:m2:wallet"}',
            "--balances", '{"merchants:m1:wallet":{"NGN/2":10000}}',
        ],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert out == (
        '{"postings":[{"source":"merchants:m1:wallet","destination":"merchants:m2:wallet",'
        '"amount":10000,"asset":"NGN/2"}],"txMetadata":{"note":"NGN/2 10000"},'
        '"accountsMetadata":{"merchants:m2:wallet":{"last":"NGN/2 10000"}}}\n'
    )


def test_run_prints_amounts_as_arbitrary_size_json_integers(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = 10**30
    code, out = _invoke(
        [
            "numscript", "run", str(script),
            "--vars", json.dumps({"amt": f"USDT/18 {huge}", "dest": "d"}),
            "--balances", json.dumps({"merchants:m1:wallet": {"USDT/18": huge}}),
        ],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["postings"][0]["amount"] == huge
    assert f'"amount":{huge},' in out


@pytest.mark.parametrize(
    ("vars_json", "balances_json", "code"),
    [
        ('{"amt":"NGN/2 10000","dest":"d"}', '{"merchants:m1:wallet":{"NGN/2":500}}',
         "INSUFFICIENT_FUND"),
        ('{"amt":"NGN/2 -1","dest":"d"}', "{}", "NEGATIVE_AMOUNT"),
        ('{"amt":"NGN/2 1"}', "{}", "MISSING_VARIABLE"),
        ('{"amt":"NGN/2 ten","dest":"d"}', "{}", "INVALID_VARIABLE"),
        ('{"amt":"NGN/2 1","dest":"not valid"}', "{}", "INVALID_VARIABLE"),
        ('{"amt":"NGN/2 1","dest":7}', "{}", "INVALID_VARIABLE"),
        ("{not json", "{}", "INVALID_JSON"),
        ("[]", "{}", "INVALID_JSON"),
        ('{"amt":"NGN/2 1","dest":"d"}', '{"merchants:m1:wallet":{"NGN/2":1.5}}',
         "INVALID_BALANCE"),
    ],
)  # fmt: skip
def test_run_failure_prints_one_json_error_and_exits_1(
    script: Path,
    capsys: pytest.CaptureFixture[str],
    vars_json: str,
    balances_json: str,
    code: str,
) -> None:
    exit_code, out = _invoke(
        ["numscript", "run", str(script), "--vars", vars_json, "--balances", balances_json],
        capsys,
    )
    assert exit_code == 1
    payload = json.loads(out)
    assert list(payload) == ["error"]
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]


def test_run_reports_compile_errors_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.num"
    bad.write_text("send [COIN 1] (\n  source = $nope\n  destination = @a\n)\n")
    exit_code, out = _invoke(["numscript", "run", str(bad), "--balances", "{}"], capsys)
    assert exit_code == 1
    assert json.loads(out)["error"] == {
        "code": "UNBOUND_VARIABLE",
        "message": "2:12: The variable '$nope' was not declared",
    }


def test_run_on_missing_file_is_a_json_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code, out = _invoke(["numscript", "run", str(tmp_path / "none.num")], capsys)
    assert exit_code == 1
    assert json.loads(out)["error"]["code"] == "FILE_NOT_FOUND"


def test_run_passes_account_metadata_to_meta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "meta.num"
    path.write_text(
        'vars {\n  account $owner = meta(@sales:1, "owner")\n}\n'
        "send [COIN 2] (\n  source = @world\n  destination = $owner\n)\n"
    )
    exit_code, out = _invoke(
        ["numscript", "run", str(path), "--meta", '{"sales:1":{"owner":"users:9"}}'], capsys
    )
    assert exit_code == 0
    assert json.loads(out)["postings"][0]["destination"] == "users:9"


def test_check_prints_ok_for_a_valid_script(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _invoke(["numscript", "check", str(script)], capsys) == (0, "ok\n")


def test_check_prints_file_line_column_message_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.num"
    bad.write_text("vars { number $n }\nsend $n (\n  source = $x\n  destination = @a\n)\n")
    exit_code, out = _invoke(["numscript", "check", str(bad)], capsys)
    assert exit_code == 1
    assert out.splitlines() == [
        f"{bad}:2:6: Type mismatch (expected 'monetary', got 'number' instead)",
        f"{bad}:3:12: The variable '$x' was not declared",
    ]


def test_check_reports_syntax_errors_with_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.num"
    bad.write_text("send [COIN 1] (\n  source = @a\n  destination @b\n)\n")
    exit_code, out = _invoke(["numscript", "check", str(bad)], capsys)
    assert exit_code == 1
    assert out.startswith(f"{bad}:3:15: unexpected '@b', expected '='")


def test_standalone_module_runs_in_a_subprocess(script: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable, "-m", "walletflow.entrypoints.numscript", "run", str(script),
            "--vars", '{"amt":"UGX 5","dest":"d"}',
            "--balances", '{"merchants:m1:wallet":{"UGX":4}}',
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["error"]["code"] == "INSUFFICIENT_FUND"
    assert completed.stderr == ""


def test_walletflow_command_exposes_numscript(script: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "walletflow", "numscript", "check", str(script)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (completed.returncode, completed.stdout) == (0, "ok\n")
